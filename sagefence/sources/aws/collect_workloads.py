"""SageMaker models and the most recent training and processing jobs of one region.

Per region: ListModels (paginated), ListTrainingJobs and ListProcessingJobs (newest first,
``recent_jobs`` items: one call up to 100); per model DescribeModel, per job one Describe.
Jobs are pseudo types in the API's shape; ``VpcConfig`` of a processing job is lifted from
``NetworkConfig.VpcConfig`` so that every SM-006 subject carries it at the same place.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, read_field
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import PAGE, items, present, resource
from sagefence.values import ReadError

MODEL = "AWS::SageMaker::Model"
TRAINING_JOB = "AWS::SageMaker::TrainingJob"
PROCESSING_JOB = "AWS::SageMaker::ProcessingJob"
TYPES = (MODEL, TRAINING_JOB, PROCESSING_JOB)
_PAGE_LIMIT = 100


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    batch = Batch()
    sagemaker = clients("sagemaker")
    account = clients.account
    try:
        models = items(sagemaker, "list_models", "Models", PaginationConfig=PAGE)
    except READ_ERRORS as err:
        batch.fail(account, region, MODEL, "sagemaker.ListModels", err)
    else:
        for summary in models:
            batch.resources.append(_model(sagemaker, summary, account, region))
    if options.recent_jobs > 0:
        _jobs(sagemaker, "Training", account, region, options.recent_jobs, batch)
        _jobs(sagemaker, "Processing", account, region, options.recent_jobs, batch)
    return batch


def _model(sagemaker: Any, summary: dict[str, Any], account: str, region: str) -> Any:
    name, arn = summary["ModelName"], summary["ModelArn"]
    described = read_field(lambda: sagemaker.describe_model(ModelName=name), "sagemaker.DescribeModel")
    properties: dict[str, Any] = {"ModelName": name}
    if isinstance(described, ReadError):
        properties.update(ExecutionRoleArn=described, VpcConfig=described)
    else:
        properties.update(
            present(
                ExecutionRoleArn=described.get("ExecutionRoleArn"),
                VpcConfig=_vpc_config(described.get("VpcConfig")),
                EnableNetworkIsolation=described.get("EnableNetworkIsolation"),
            )
        )
    return resource(MODEL, arn, properties, account, region, arn=arn)


def _jobs(sagemaker: Any, kind: str, account: str, region: str, limit: int, batch: Batch) -> None:
    type_ = TRAINING_JOB if kind == "Training" else PROCESSING_JOB
    snake = kind.lower()
    listing = f"sagemaker.List{kind}Jobs"
    try:
        summaries = items(
            sagemaker,
            f"list_{snake}_jobs",
            f"{kind}JobSummaries",
            SortBy="CreationTime",
            SortOrder="Descending",
            PaginationConfig={"MaxItems": limit, "PageSize": min(limit, _PAGE_LIMIT)},
        )
    except READ_ERRORS as err:
        batch.fail(account, region, type_, listing, err)
        return
    name_key, arn_key = f"{kind}JobName", f"{kind}JobArn"
    for summary in summaries[:limit]:
        name, arn = summary[name_key], summary[arn_key]
        described = read_field(
            partial(getattr(sagemaker, f"describe_{snake}_job"), **{name_key: name}),
            f"sagemaker.Describe{kind}Job",
        )
        properties: dict[str, Any] = {name_key: name}
        if isinstance(described, ReadError):
            properties.update(RoleArn=described, VpcConfig=described)
            if kind == "Processing":
                properties["NetworkConfig"] = {"VpcConfig": described}
        else:
            network = described.get("NetworkConfig") or {}
            config = described.get("VpcConfig") if kind == "Training" else network.get("VpcConfig")
            properties.update(
                present(
                    RoleArn=described.get("RoleArn"),
                    VpcConfig=_vpc_config(config),
                    NetworkConfig=(network or None) if kind == "Processing" else None,
                    EnableNetworkIsolation=described.get("EnableNetworkIsolation"),
                )
            )
        extra = {"status": summary.get(f"{kind}JobStatus"), "created": _iso(summary.get("CreationTime"))}
        batch.resources.append(resource(type_, arn, properties, account, region, arn=arn, extra=extra))


def _vpc_config(config: Any) -> dict[str, Any] | None:
    if not config:
        return None
    return present(SecurityGroupIds=config.get("SecurityGroupIds"), Subnets=config.get("Subnets"))


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
