"""secdigest: security news in, the Daily Security Info digest out."""
