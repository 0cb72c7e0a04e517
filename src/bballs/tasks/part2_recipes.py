"""Tasks 5 and 7: the recipes of the learnt frame predictors (Task 7's ablation and its Task 6
budget run) and of the skip study (Task 5), trained and scored by the sweep engine
(:mod:`bballs.training.experiments`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from torch import nn

from bballs.data import augment as aug
from bballs.models.improved import FramePredictor, PhysicsPriorPredictor
from bballs.models.spec import UNet
from bballs.models.unet_variants import UNetConcat, UNetNoSkip
from bballs.tasks import prediction, rollout
from bballs.training.experiments import Context, Experiment, RunSpec, Variant, build_model
from bballs.training.loop import Supervised, TrainConfig, cosine


@dataclass
class Task7Data:
    """The prediction data and, computed on first use, the same with the physics forecast."""

    frames: prediction.PredictionData

    @cached_property
    def with_physics_prior(self) -> prediction.PredictionData:
        return prediction.with_physics_prior(self.frames)

    def inputs_for(self, variant: Variant) -> prediction.PredictionData:
        """The data ``variant``'s model expects: with the physics forecast if it uses one."""
        return self.with_physics_prior if uses_physics_prior(variant) else self.frames


def uses_physics_prior(variant: Variant) -> bool:
    return getattr(variant.model, "needs_physics_prior", False)


def _prepare_predictor(variant: Variant, seed: int, data: Task7Data, context: Context) -> RunSpec:
    inputs = data.inputs_for(variant)
    return RunSpec(build_model(variant, seed), inputs.train, inputs.val, Supervised(variant.loss()),
               variant.config(seed, context.quick),
               {"augment": variant.augment,
                "make_scheduler": cosine if variant.schedule else None})


PREDICTION_SCORES = ("mse", "ssim", "psnr", "psnr_of_mse", "per_horizon")


def _score_predictor(model: nn.Module, variant: Variant, data: Task7Data) -> dict:
    scores, _ = prediction.evaluate_predictor(model, data.inputs_for(variant))
    return {key: scores[key] for key in PREDICTION_SCORES}


_PREDICTOR = {"recipe": TrainConfig(epochs=10, batch_size=16, lr=2e-3), "schedule": True}
_TASK7_ABLATION = (
    Variant("unet+bs16+cosine", "the baseline U-Net, batch 16, lr 2e-3, cosine decay "
            "(optimisation only)", UNet, **_PREDICTOR,
            label="baseline U-Net, batch 16, cosine decay"),
    Variant("predictor", "FramePredictor: residual blocks, coordinates, sigmoid(change from last "
            "frame)", FramePredictor, **_PREDICTOR, label="frame predictor"),
    Variant("predictor+sym", "+ the 8 symmetries of the square on whole sequences",
            FramePredictor, augment=aug.sequence_symmetries, **_PREDICTOR,
            label="frame predictor + symmetries"),
    Variant("predictor+sym+time", "+ time reversal of whole sequences", FramePredictor,
            augment=aug.sequence_augment, **_PREDICTOR,
            label="frame predictor + symmetries + time reversal"),
    Variant("predictor+sym+time+bce", "binary cross-entropy loss instead of MSE",
            FramePredictor, augment=aug.sequence_augment, loss=nn.BCELoss, **_PREDICTOR,
            label="frame predictor + symmetries + time reversal + BCE"),
    Variant("physics-prior+sym", "the physics predictor's forecast as 5 more input channels; "
            "the network corrects it (symmetries; no time reversal, the forecast is one-way)",
            PhysicsPriorPredictor, augment=aug.sequence_symmetries, **_PREDICTOR,
            label="physics-prior predictor + symmetries"),
)
TASK7_FINAL = {v.name: v for v in _TASK7_ABLATION}["predictor+sym+time+bce"]
TASK7_LONG = replace(TASK7_FINAL, name="predictor+sym+time+bce (Task 6 budget)",
                     change="the same recipe for 20 epochs of batch 4 (20 000 optimiser steps, as "
                            "many as the Task 6 U-Net), learning rate 1e-3",
                     recipe=prediction.SPEC_RECIPE, study="budget",
                     label="learnt network (Task 6 budget)")
TASK7_CONTROL = Variant(  # how much of the learnt network's lead its training alone explains
    "unet+sym+time+cosine (Task 6 budget)", "the baseline U-Net trained like the learnt "
    "network: symmetries, time reversal and cosine decay for 20 epochs of batch 4 (20 000 "
    "optimiser steps), learning rate 1e-3; MSE loss (its ReLU output cannot take binary "
    "cross-entropy)", UNet, prediction.SPEC_RECIPE, augment=aug.sequence_augment,
    schedule=True, study="budget", label="baseline U-Net, learnt network's training")
TASK7_VARIANTS = (*_TASK7_ABLATION, TASK7_LONG, TASK7_CONTROL)
TASK7_BY_NAME = {v.name: v for v in TASK7_VARIANTS}


TASK7 = Experiment("task7",
                   lambda c: Task7Data(prediction.load_prediction_data(c.data_dir, quick=c.quick)),
                   _prepare_predictor, _score_predictor, TASK7_VARIANTS, TASK7_FINAL,
                   PREDICTION_SCORES, ablation_seeds=3,  # every change judged over 3 seeds
                   every_seed=("predictor+sym+time", TASK7_LONG.name))
_SPEC_UNET = {"recipe": prediction.SPEC_RECIPE, "study": "skips"}  # Task 6 recipe
BASELINE_SWEEP = "unet-add-skips"  # the baseline U-Net among the Task 5 sweep's variants
TASK5_VARIANTS = (
    Variant(BASELINE_SWEEP, "the baseline U-Net, Table 3 with addition skips (Task 6 recipe)",
            UNet, **_SPEC_UNET, label="U-Net, addition skips (baseline)"),
    Variant("unet-no-skips", "the baseline U-Net without skip connections (Task 6 recipe)",
            UNetNoSkip, **_SPEC_UNET, label="U-Net, no skips"),
    Variant("unet-concat-skips", "the baseline U-Net with concatenation skips instead of "
            "addition (Task 6 recipe)", UNetConcat, **_SPEC_UNET,
            label="U-Net, concatenation skips"),
)
# every skip type on every seed: the Task 5 comparison and the Task 7 baseline rest on them
TASK5 = Experiment("task5", TASK7.load_data, _prepare_predictor, _score_predictor,
                   TASK5_VARIANTS, None, PREDICTION_SCORES)


def rollout_predictor(variant: Variant, model: nn.Module):
    """``model`` as a next-5-frames predictor on raw frames, for autoregressive roll-outs."""
    if uses_physics_prior(variant):
        return rollout.physics_prior_predictor(model)
    return rollout.model_predictor(model)
