"""Pure-numpy analysis: Procrustes and CKA, concept activation %, latent granularity."""
