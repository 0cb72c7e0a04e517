"""Classical (non-learnt) methods: blob detection (blobs) and each assignment's own references
built on it."""
