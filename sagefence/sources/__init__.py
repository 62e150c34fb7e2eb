"""Sources turn templates or live accounts into CloudFormation-shaped resources."""
