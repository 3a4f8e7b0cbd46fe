output "instance_id" {
  description = "EC2 instance id."
  value       = aws_instance.this.id
}

output "instance_arn" {
  description = "EC2 instance ARN."
  value       = aws_instance.this.arn
}

output "private_ip" {
  description = "Private IP address of the VM."
  value       = aws_instance.this.private_ip
}

output "role_arn" {
  description = "ARN of the VM's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the VM's IAM role."
  value       = aws_iam_role.this.name
}
