"""Where a task's process runs: a local subprocess here; containers and VMs behind the same interface."""
