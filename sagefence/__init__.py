"""sagefence: policy-as-code compliance checks for secure Amazon SageMaker environments."""

__version__ = "0.1.0"
