"""Delivering the event outbox to a message broker (NATS JetStream)."""
