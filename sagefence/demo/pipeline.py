"""Staging and production: the accounts the development pipeline deploys models into.

Each has a StackSets execution role (the deployer, assumed by the development account's
``ml-stackset-administration``) and a model execution role SageMaker runs the model with.

Staging is wired correctly. Production carries three mistakes, on purpose:
- its stack set execution role trusts a role that no longer exists: the development account's
  ``ml-stackset-administration`` was deleted and re-created, and IAM replaced the principal in this
  trust policy with the old role's unique id, which matches nothing; the pipeline can no longer
  assume the role (IAM-003, reported on the administration role);
- the deployer was never granted iam:PassRole on the model execution role (IAM-004, through the
  demo config's ``expectations.passrole``);
- the model execution role was opened to every AWS principal while debugging (IAM-001), and the
  model deployed by hand has no VpcConfig (SM-006).
"""

from __future__ import annotations

from typing import Any

from sagefence.demo import documents as d
from sagefence.demo.harness import DEMO_REGION
from sagefence.demo.world import World, put_role

EXECUTION = "ml-stackset-execution"
DELETED_ROLE_ID = "AROAXEXAMPLEOLDROLE01"  # what IAM shows in a trust policy once the trusted role is deleted
MODEL_EXECUTION = "ml-model-execution"
DEPLOY_ACTIONS = [
    "cloudformation:*",
    "sagemaker:CreateModel",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:Describe*",
]


def seed_target(session: Any, world: World, stage: str) -> None:
    account = world.accounts[stage]
    iam = session.client("iam")
    broken = stage == "production"
    admin = DELETED_ROLE_ID if broken else f"arn:aws:iam::{world.development}:role/ml-stackset-administration"
    model_role = f"arn:aws:iam::{account}:role/{MODEL_EXECUTION}"
    deploy: list[dict[str, Any]] = [{"Sid": "Deploy", "Effect": "Allow", "Action": DEPLOY_ACTIONS, "Resource": "*"}]
    if not broken:
        deploy.append(
            {
                "Sid": "PassModelExecutionRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": model_role,
                "Condition": {"StringEquals": {"iam:PassedToService": d.SAGEMAKER}},
            }
        )
    put_role(iam, EXECUTION, d.doc(d.trust_role(admin)), {"deploy-models": d.doc(*deploy)})

    trust = [d.trust_service(d.SAGEMAKER)] + ([d.trust_anyone()] if broken else [])
    models = f"ml-dev-models-{world.development}"
    put_role(
        iam,
        MODEL_EXECUTION,
        d.doc(*trust),
        {
            "vpc-guardrail": d.doc(d.vpc_guardrail()),
            "serve-model": d.doc(
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": d.bucket_arns(models)},
                {
                    "Effect": "Allow",
                    "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                },
            ),
        },
    )
    if broken:
        session.client("sagemaker", region_name=DEMO_REGION).create_model(
            ModelName="churn-xgboost-hotfix",
            ExecutionRoleArn=model_role,
            PrimaryContainer={
                "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1",
                "ModelDataUrl": f"s3://{models}/churn/model.tar.gz",
            },
        )
