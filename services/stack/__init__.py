"""The compose stack on one machine: its images, its env file, and `make stack`, `stack-test` and `stack-down`."""
