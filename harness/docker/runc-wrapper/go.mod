module firedrill.local/runc-wrapper

go 1.22
