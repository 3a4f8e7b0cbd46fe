terraform {
  # Provider-free: renders cloud-init for any of the three clouds.
  required_version = ">= 1.11, < 2.0"
}
