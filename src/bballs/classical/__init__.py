"""Classical (non-learnt) references: connected-component counting and the blob-tracking
physics predictor."""
