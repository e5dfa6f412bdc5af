"""The media context: image uploads (avatars, article images), their references and blobs."""
