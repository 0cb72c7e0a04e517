"""Principal component analysis as the non-learnt baseline of the autoencoders' latent sweep:
the linear code of l numbers that rebuilds the training frames with the least squared error."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from bballs.image_metrics import reconstruction_scores


def pca_scores(train: torch.Tensor, test: torch.Tensor, sizes: Sequence[int]
               ) -> dict[int, dict[str, float]]:
    """Test reconstruction scores (MSE, PSNRs) of a PCA code of each size in ``sizes``, fitted
    once on the training frames (N, 1, H, W); reconstructions are clipped to [0, 1] like the
    autoencoders' sigmoid outputs."""
    from sklearn.decomposition import PCA

    flat_train = train.reshape(len(train), -1).double().numpy()
    flat_test = test.reshape(len(test), -1).double().numpy()
    largest = min(max(sizes), *flat_train.shape)
    pca = PCA(n_components=largest, svd_solver="full").fit(flat_train)
    centred = flat_test - pca.mean_
    scores = {}
    for size in sizes:
        basis = pca.components_[:min(size, largest)]
        rebuilt = pca.mean_ + centred @ basis.T @ basis  # clipped by reconstruction_scores
        scores[size] = reconstruction_scores(torch.from_numpy(rebuilt).float().reshape(test.shape),
                                             test)
    return scores


def with_pca(rows: list[dict], train: torch.Tensor, test: torch.Tensor) -> list[dict]:
    """The latent sweep's ``rows`` (one per ``latent``) with the PCA code of the same size's
    PSNR of the mean MSE as ``pca_psnr_of_mse``."""
    scores = pca_scores(train, test, [row["latent"] for row in rows])
    return [{**row, "pca_psnr_of_mse": scores[row["latent"]]["psnr_of_mse"]} for row in rows]
