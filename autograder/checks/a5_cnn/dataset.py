"""a5_cnn · ImageDataset: hints, the scenario that reads the learner's
dataset with recording transforms, and the checks."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from autograder.checking import CheckFailed, Context
from autograder.checks.a5_cnn import suite
from autograder.checks.kit import run_explained
from autograder.compare import expect_tensor
from autograder.scenarios import Learner, describe

HINT_DATASET = "declare class ImageDataset(torch.utils.data.Dataset) with __len__ and __getitem__"
HINT_LEN = "__len__ returns the number of examples: len(self.images)"
HINT_ITEM = "__getitem__(index) returns the pair (image, label) of that example: (self.images[index], self.labels[index])"
HINT_INDEX = ("index the stored images and labels directly (self.images[index]): tensors and lists already count "
              "negative indices from the end and raise IndexError past the end, which is how `for x in ds` stops")
HINT_TRANSFORM_EACH_ACCESS = ("apply the transform in __getitem__, every time an example is read, not once in __init__: "
                              "a random augmentation must give a new variant of the image at every epoch")
HINT_TRANSFORM_IMAGE = "call self.transform(image) on the image alone, and return the label untouched"
HINT_NO_TRANSFORM = "with transform=None, return the image unchanged (`if self.transform is not None: ...`)"
HINT_LABEL_INT = ("return the label as an integer (int(label), or the int64 element of a tensor), never a float: "
                  "cross_entropy needs integer class indices")
HINT_CRASH_DATASET = ("ImageDataset(images, labels, transform=None): images and labels may be tensors or lists of the "
                      "same length, and transform may be None (then the image is returned as it is)")

# --------------------------------------------------------------------------
# Learner side: the scenario.


def dataset_trace(learner: Learner, images: torch.Tensor, labels: torch.Tensor, transform: str, indices: list[int],
                  as_lists: bool, batch_size: int) -> dict[str, Any]:
    """Build the learner's ImageDataset and read it: the examples at
    `indices`, what the transform was given, an index past the end, and one
    DataLoader batch. `transform` is "none", "affine" (2 * image + 1) or
    "noise" (a fresh random draw at every call)."""
    seen: list[dict[str, Any]] = []

    def affine(image: Any) -> Any:
        seen.append({"type": type(image).__name__, "shape": list(getattr(image, "shape", []))})
        return image * 2 + 1 if isinstance(image, torch.Tensor) else image  # anything else: the check says what came

    def noise(image: Any) -> Any:
        seen.append({"type": type(image).__name__, "shape": list(getattr(image, "shape", []))})
        return image + torch.rand(image.shape) if isinstance(image, torch.Tensor) else image

    functions = {"none": None, "affine": affine, "noise": noise}
    data: Any = list(images) if as_lists else images
    targets: Any = [int(y) for y in labels] if as_lists else labels
    ds = learner["ImageDataset"](data, targets, transform=functions[transform])
    result: dict[str, Any] = {"is_dataset": isinstance(ds, Dataset), "calls_at_init": len(seen)}
    result["len"] = len(ds)
    items = []
    for index in indices:
        item = ds[index]
        if isinstance(item, (tuple, list)) and len(item) == 2:
            items.append({"pair": True, "image": item[0], "label": item[1]})
        else:
            items.append({"pair": False, "what": describe(item)})
    result["items"] = items
    if transform == "noise" and indices:
        again = ds[indices[0]]
        result["again"] = again[0] if isinstance(again, (tuple, list)) else None
    result["seen"] = seen
    try:
        ds[len(images)]
        result["past_the_end"] = "no exception"
    except IndexError:
        result["past_the_end"] = "IndexError"
    except Exception as error:  # noqa: BLE001 - reported, not raised: the check says what it should be
        result["past_the_end"] = type(error).__name__
    batch = next(iter(DataLoader(ds, batch_size=batch_size)))
    if isinstance(batch, (tuple, list)) and len(batch) == 2 and isinstance(batch[0], torch.Tensor):
        result["batch"] = {"X": list(batch[0].shape), "y": batch[1]}
    else:
        result["batch"] = {"X": [], "y": describe(batch)}
    return result


# --------------------------------------------------------------------------
# Grader side: the checks.


def _label_problem(label: Any) -> str | None:
    if isinstance(label, bool) or isinstance(label, float):
        return f"the label came back as {describe(label)}"
    if isinstance(label, int):
        return None
    if isinstance(label, torch.Tensor):
        if label.numel() == 1 and not label.is_floating_point() and label.dtype != torch.bool:
            return None
        return f"the label came back as {describe(label)}"
    return f"the label came back as {describe(label)}"


def check_dataset_case(ctx: Context, images: torch.Tensor, labels: torch.Tensor, transform: str, indices: list[int],
                       as_lists: bool, label: str, hint: str | None = None, batch_size: int = 3) -> None:
    """The learner's ImageDataset read at `indices`, against the stored
    examples (transformed when a transform is given)."""
    kind = "lists" if as_lists else "tensors"
    what = (f"ImageDataset(images, labels, transform={'None' if transform == 'none' else transform}) for "
            f"{len(images)} images of shape {tuple(images.shape[1:])} and labels, given as {kind}{label}")
    result = run_explained(ctx, what, HINT_CRASH_DATASET, dataset_trace, images, labels, transform, indices,
                           as_lists, batch_size)
    if not result["is_dataset"]:
        raise CheckFailed(f"{what} is not a torch.utils.data.Dataset", HINT_DATASET)
    if result["calls_at_init"]:
        raise CheckFailed(f"{what}: the transform ran {result['calls_at_init']} times while the dataset was built",
                          HINT_TRANSFORM_EACH_ACCESS)
    if not isinstance(result["len"], int) or result["len"] != len(images):
        raise CheckFailed(f"{what}: len(ds) is {result['len']!r}, expected {len(images)}", HINT_LEN)
    if transform != "none":
        if any(entry["type"] != "Tensor" or entry["shape"] != list(images.shape[1:]) for entry in result["seen"]):
            odd = next(entry for entry in result["seen"]
                       if entry["type"] != "Tensor" or entry["shape"] != list(images.shape[1:]))
            came = f"a {odd['type']}" + (f" of shape {tuple(odd['shape'])}" if odd["shape"] else "")
            raise CheckFailed(f"{what}: the transform was called with {came}; expected one image of shape "
                              f"{tuple(images.shape[1:])}", HINT_TRANSFORM_IMAGE)
    for index, item in zip(indices, result["items"]):
        at = f"{what}: ds[{index}]"
        if not item["pair"]:
            raise CheckFailed(f"{at} returned {item['what']}, expected a pair (image, label)", HINT_ITEM)
        expected_image = images[index]
        if transform == "affine":
            expected_image = expected_image * 2 + 1
        if transform == "noise":
            image = item["image"]
            if not isinstance(image, torch.Tensor) or image.shape != expected_image.shape:
                raise CheckFailed(f"{at}: expected the transformed image, of shape {tuple(expected_image.shape)}; got "
                                  f"{describe(image)}", HINT_TRANSFORM_IMAGE)
        else:
            item_hint = hint or (HINT_NO_TRANSFORM if transform == "none" else HINT_TRANSFORM_IMAGE)
            if index < 0 and isinstance(item["image"], torch.Tensor) and item["image"].shape == expected_image.shape \
                    and not torch.equal(item["image"], expected_image):
                item_hint = HINT_INDEX
            expect_tensor(item["image"], expected_image, f"{at}[0], the image", item_hint)
        problem = _label_problem(item["label"])
        if problem:
            raise CheckFailed(f"{at}: {problem}; expected the integer {int(labels[index])}",
                              HINT_TRANSFORM_IMAGE if transform != "none" and isinstance(item["label"], torch.Tensor)
                              and item["label"].is_floating_point() and item["label"].numel() > 1 else HINT_LABEL_INT)
        if int(item["label"]) != int(labels[index]):
            raise CheckFailed(f"{at}[1], the label, is {int(item['label'])}; expected {int(labels[index])}",
                              HINT_INDEX if index < 0 else HINT_ITEM)
    if transform == "noise":
        first = result["items"][0]["image"] if result["items"] else None
        again = result.get("again")
        if isinstance(first, torch.Tensor) and isinstance(again, torch.Tensor) and torch.equal(first, again):
            raise CheckFailed(f"{what}: reading ds[{indices[0]}] twice with a random transform gave the same image twice",
                              HINT_TRANSFORM_EACH_ACCESS)
    if result["past_the_end"] != "IndexError":
        raise CheckFailed(f"{what}: ds[{len(images)}] (one past the end) gave {result['past_the_end']}, expected IndexError",
                          HINT_INDEX)
    batch = result["batch"]
    if batch["X"] != [min(batch_size, len(images)), *images.shape[1:]] or not isinstance(batch["y"], torch.Tensor) \
            or batch["y"].dtype != torch.int64:
        raise CheckFailed(f"{what}: a DataLoader batch of {batch_size} gave images of shape {tuple(batch['X'])} and labels "
                          f"{describe(batch['y'])}; expected labels of dtype torch.int64", HINT_LABEL_INT)


def make_images(seed: int, n: int, shape: tuple[int, ...] = (1, 8, 8)) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((n, *shape), generator=generator), torch.randint(0, 10, (n,), generator=generator)


@suite.check("ImageDataset")
def dataset_length_and_items(ctx: Context) -> None:
    """len(ds) is the number of images and ds[i] is the pair (images[i], labels[i])"""
    images, labels = make_images(1, 5)
    check_dataset_case(ctx, images, labels, "none", [0, 3, 4], False, "")


@suite.check("ImageDataset")
def dataset_negative_and_past_the_end(ctx: Context) -> None:
    """negative indices count from the end (ds[-1] is the last example); ds[len(ds)] raises IndexError"""
    images, labels = make_images(2, 4)
    check_dataset_case(ctx, images, labels, "none", [-1, -4, -2], False, " (negative indices)", HINT_INDEX)


@suite.check("ImageDataset")
def dataset_transform(ctx: Context) -> None:
    """the transform is applied to the image only, every time an example is read"""
    images, labels = make_images(3, 5)
    check_dataset_case(ctx, images, labels, "affine", [1, -1], False, "")
    check_dataset_case(ctx, images, labels, "noise", [2, 0], False, "")


@suite.check("ImageDataset")
def dataset_lists_and_int_labels(ctx: Context) -> None:
    """images and labels may be lists; labels stay integers, so a DataLoader batches them as int64"""
    images, labels = make_images(4, 6, (3, 4, 4))
    check_dataset_case(ctx, images, labels, "none", [0, 5, -3], True, " (lists)", batch_size=4)
