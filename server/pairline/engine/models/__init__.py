"""The local models pairline knows (the manifest, finding or assembling their files), loading
one, and the one `LocalModel` the server's features share."""
