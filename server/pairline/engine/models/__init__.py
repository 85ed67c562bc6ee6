"""The local models pairline knows: the manifest, and finding or assembling their files."""
