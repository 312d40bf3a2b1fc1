"""The archive stage: evidence bundles (BagIt, SHA-512, Ed25519) and the write-once stores they go to."""
