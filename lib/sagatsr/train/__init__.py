"""Training of SA-GAT models with PyTorch Lightning."""
