"""The delivery queue on taskiq: Redis Streams (taskiq-redis) or in process."""
