"""SageMaker models and the most recent training and processing jobs of one region.

Per region: ListModels (paginated), ListTrainingJobs and ListProcessingJobs (newest first,
``recent_jobs`` items: one call up to 100); per model DescribeModel, per job one Describe.
The three listings, and every Describe, are tasks of their own.
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
    """Lists the models; each model, and each job listing, is a follow-up task."""
    batch = Batch()
    if options.recent_jobs > 0:
        for kind in ("Training", "Processing"):
            batch.later(partial(_jobs, clients.fresh(), kind, region, options.recent_jobs), calls=4)  # a listing
    try:
        models = items(clients("sagemaker"), "list_models", "Models", PaginationConfig=PAGE)
    except READ_ERRORS as err:
        batch.fail(clients.account, region, MODEL, "sagemaker.ListModels", err)
        return batch
    for summary in models:
        batch.later(partial(_model, clients.fresh(), summary, region))
    return batch


def _model(clients: TaskClients, summary: dict[str, Any], region: str) -> Batch:
    sagemaker, account = clients("sagemaker"), clients.account
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
    return Batch(resources=[resource(MODEL, arn, properties, account, region, arn=arn)])


def _jobs(clients: TaskClients, kind: str, region: str, limit: int) -> Batch:
    batch = Batch()
    type_ = TRAINING_JOB if kind == "Training" else PROCESSING_JOB
    snake = kind.lower()
    listing = f"sagemaker.List{kind}Jobs"
    try:
        summaries = items(
            clients("sagemaker"),
            f"list_{snake}_jobs",
            f"{kind}JobSummaries",
            SortBy="CreationTime",
            SortOrder="Descending",
            PaginationConfig={"MaxItems": limit, "PageSize": min(limit, _PAGE_LIMIT)},
        )
    except READ_ERRORS as err:
        batch.fail(clients.account, region, type_, listing, err)
        return batch
    for summary in summaries[:limit]:
        batch.later(partial(_job, clients.fresh(), kind, summary, region))
    return batch


def _job(clients: TaskClients, kind: str, summary: dict[str, Any], region: str) -> Batch:
    sagemaker, account, snake = clients("sagemaker"), clients.account, kind.lower()
    type_ = TRAINING_JOB if kind == "Training" else PROCESSING_JOB
    name_key, arn_key = f"{kind}JobName", f"{kind}JobArn"
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
    return Batch(resources=[resource(type_, arn, properties, account, region, arn=arn, extra=extra)])


def _vpc_config(config: Any) -> dict[str, Any] | None:
    if not config:
        return None
    return present(SecurityGroupIds=config.get("SecurityGroupIds"), Subnets=config.get("Subnets"))


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
