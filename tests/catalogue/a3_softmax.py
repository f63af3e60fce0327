"""a3_softmax: classic wrong implementations and correct alternatives."""
from tests.catalogue import Variant

VARIANTS = [
    # ---------------------------------------------------------------- softmax
    Variant("softmax", "softmax_no_max_shift", '''
def softmax(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(dim=-1, keepdim=True)
''', bug="subtract each row's max"),
    Variant("softmax", "softmax_global_max", '''
def softmax(X):
    X_exp = torch.exp(X - X.max())
    return X_exp / X_exp.sum(dim=-1, keepdim=True)
''', bug="each row's own max"),
    Variant("softmax", "softmax_dim_1", '''
def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=1, keepdim=True)
''', bug="last dimension"),
    Variant("softmax", "softmax_in_place", '''
def softmax(X):
    X -= X.max(dim=-1, keepdim=True).values.detach()
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(dim=-1, keepdim=True)
''', bug="in place"),
    Variant("softmax", "softmax_no_keepdim", '''
def softmax(X):
    X_exp = torch.exp(X - X.max(dim=-1, keepdim=True).values)
    return X_exp / X_exp.sum()
''', bug="last dimension"),
    Variant("softmax", "softmax_float32_cast", '''
def softmax(X):
    X = X.float()
    X_exp = torch.exp(X - X.max(dim=-1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=-1, keepdim=True)
''', bug="dtype"),
    Variant("softmax", "softmax_detached_max_ok", '''
def softmax(X):
    shift = X.detach().amax(dim=-1, keepdim=True)
    e = (X - shift).exp()
    return e / e.sum(-1, keepdim=True)
'''),
    Variant("softmax", "softmax_reciprocal_ok", '''
def softmax(X):
    Z = X - X.amax(dim=-1, keepdim=True)
    numerator = Z.exp()
    return numerator * (1.0 / numerator.sum(dim=-1, keepdim=True))
'''),
    Variant("softmax", "softmax_uses_torch_softmax", '''
def softmax(X):
    return torch.softmax(X, dim=-1)
''', bug="no credit"),
    Variant("softmax", "softmax_method_form", '''
def softmax(X):
    return X.softmax(-1)
''', bug="no credit"),
    Variant("softmax", "softmax_getattr", '''
def softmax(X):
    return getattr(torch.nn.functional, "soft" + "max")(X, dim=-1)
''', bug="no credit"),
    Variant("softmax", "softmax_torch_ops", '''
def softmax(X):
    return torch.ops.aten._softmax.default(X, -1, False)
''', bug="no credit"),
    # ---------------------------------------------------------- cross_entropy
    Variant("cross_entropy", "ce_log_of_softmax", '''
def cross_entropy(logits, y):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs[torch.arange(len(y)), y]).mean()
''', bug="stably"),
    Variant("cross_entropy", "ce_sum_not_mean", '''
def cross_entropy(logits, y):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(y)), y].sum()
''', bug="mean over examples"),
    Variant("cross_entropy", "ce_wrong_pick", '''
def cross_entropy(logits, y):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[:, y].mean()
''', bug="each row's own label"),
    Variant("cross_entropy", "ce_per_example", '''
def cross_entropy(logits, y):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(len(y)), y]
''', bug="not a loss per example"),
    Variant("cross_entropy", "ce_uses_logsumexp", '''
def cross_entropy(logits, y):
    return (logits.logsumexp(dim=1) - logits[torch.arange(len(y)), y]).mean()
''', bug="no credit"),
    Variant("cross_entropy", "ce_uses_F", '''
def cross_entropy(logits, y):
    import torch.nn.functional as F
    return F.cross_entropy(logits, y)
''', bug="no credit"),
    Variant("cross_entropy", "ce_gather_ok", '''
def cross_entropy(logits, y):
    m = logits.max(dim=1, keepdim=True).values
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    picked = logits.gather(1, y.unsqueeze(1)).squeeze(1)
    return (lse - picked).mean()
'''),
    Variant("cross_entropy", "ce_uses_learner_softmax_shifted_ok", '''
def cross_entropy(logits, y):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_z = torch.log(torch.exp(shifted).sum(dim=1))
    return (log_z - shifted[range(len(y)), y]).sum() / len(y)
'''),
    # --------------------------------------------------------------- accuracy
    Variant("accuracy", "acc_count", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).sum())
''', bug="fraction of correct rows"),
    Variant("accuracy", "acc_argmax_dim0", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=0) == y).float().mean())
''', bug="each row"),
    Variant("accuracy", "acc_tensor", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(dim=1) == y).float().mean()
''', bug="python float"),
    Variant("accuracy", "acc_integer_division", '''
def accuracy(y_hat, y):
    return int((y_hat.argmax(dim=1) == y).sum()) // len(y)
''', bug="integer division"),
    Variant("accuracy", "acc_max_indices_ok", '''
def accuracy(y_hat, y):
    predictions = y_hat.max(dim=1).indices
    return (predictions == y).sum().item() / y.numel()
'''),
    # ---------------------------------------------------------------- Flatten
    Variant("Flatten", "flatten_view", '''
class Flatten(nn.Module):
    def forward(self, X):
        return X.view(X.shape[0], -1)
''', bug="non-contiguous"),
    Variant("Flatten", "flatten_reshape_minus_one", '''
class Flatten(nn.Module):
    def forward(self, X):
        return X.reshape(X.shape[0], -1)
''', bug="N == 0"),
    Variant("Flatten", "flatten_everything", '''
class Flatten(nn.Module):
    def forward(self, X):
        return X.flatten()
''', bug="keep the batch dimension"),
    Variant("Flatten", "flatten_with_parameter", '''
class Flatten(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
    def forward(self, X):
        return X.flatten(1) * self.scale
''', bug="should have none"),
    Variant("Flatten", "flatten_subclass_nn_flatten", '''
class Flatten(nn.Flatten):
    pass
''', bug="no credit"),
    Variant("Flatten", "flatten_start_dim_ok", '''
class Flatten(nn.Module):
    def forward(self, X):
        return torch.flatten(X, start_dim=1)
'''),
    # ------------------------------------------------------ evaluate_accuracy
    Variant("evaluate_accuracy", "eval_train_mode", '''
def evaluate_accuracy(net, data_iter):
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total
''', bug="net.eval()"),
    Variant("evaluate_accuracy", "eval_mean_of_batches", '''
def evaluate_accuracy(net, data_iter):
    was_training = net.training
    net.eval()
    accs = []
    with torch.no_grad():
        for X, y in data_iter:
            accs.append(float((net(X).argmax(dim=1) == y).float().mean()))
    net.train(was_training)
    return sum(accs) / len(accs)
''', bug="weight each batch by its size"),
    Variant("evaluate_accuracy", "eval_always_back_to_train", '''
def evaluate_accuracy(net, data_iter):
    net.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    net.train()
    return correct / total
''', bug="restore it afterwards"),
    Variant("evaluate_accuracy", "eval_with_grad", '''
def evaluate_accuracy(net, data_iter):
    was_training = net.training
    net.eval()
    correct, total = 0, 0
    for X, y in data_iter:
        correct += int((net(X).argmax(dim=1) == y).sum())
        total += len(y)
    net.train(was_training)
    return correct / total
''', bug="torch.no_grad()"),
    Variant("evaluate_accuracy", "eval_leaves_eval", '''
def evaluate_accuracy(net, data_iter):
    net.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total
''', bug="restore it afterwards"),
    Variant("evaluate_accuracy", "eval_inference_mode_ok", '''
def evaluate_accuracy(net, data_iter):
    mode = net.training
    net.train(False)
    hits = n = 0
    with torch.inference_mode():
        for X, y in data_iter:
            hits += (net(X).argmax(1) == y).sum().item()
            n += y.shape[0]
    net.train(mode)
    return hits / n
'''),
    # ------------------------------------------------------------ train_epoch
    Variant("train_epoch", "train_no_zero_grad", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        l.mean().backward()
        optimizer.step()
        total_loss += float(l.mean()) * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
''', bug="zero_grad"),
    Variant("train_epoch", "train_backward_sum", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.sum().backward()
        optimizer.step()
        total_loss += float(l.sum())
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
''', bug="summed loss"),
    Variant("train_epoch", "train_mean_of_batch_means", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    losses, correct, total = [], 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y).mean()
        l.backward()
        optimizer.step()
        losses.append(float(l))
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return sum(losses) / len(losses), correct / total
''', bug="weight each batch's loss by its size"),
    Variant("train_epoch", "train_no_train_mode", '''
def train_epoch(net, train_iter, loss, optimizer):
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.mean().backward()
        optimizer.step()
        total_loss += float(l.mean()) * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
''', bug="net.train()"),
    Variant("train_epoch", "train_step_before_backward", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.step()
        l.mean().backward()
        total_loss += float(l.mean()) * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
''', bug="backward() before optimizer.step()"),
    Variant("train_epoch", "train_sum_with_mean_loss_only", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.mean().backward()
        optimizer.step()
        total_loss += float(l.sum())
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
''', bug="mean loss"),
    Variant("train_epoch", "train_set_to_none_ok", '''
def train_epoch(net, train_iter, loss, optimizer):
    net.train()
    loss_sum = hits = seen = 0.0
    for X, y in train_iter:
        y_hat = net(X)
        per_example = loss(y_hat, y)
        batch_loss = per_example.mean()
        optimizer.zero_grad(set_to_none=True)
        batch_loss.backward()
        optimizer.step()
        loss_sum += batch_loss.item() * y.numel()
        hits += (y_hat.argmax(1) == y).sum().item()
        seen += y.numel()
    return loss_sum / seen, hits / seen
'''),
]

# Other paths to the same computation (issue 8, class 2): each must lose credit.
VARIANTS += [
    Variant("softmax", "softmax_via_attention", '''
def softmax(X):
    shape = X.shape
    scores = X.reshape(-1, 1, shape[-1])
    query = torch.ones(scores.shape[0], 1, 1, dtype=X.dtype)
    key = scores.transpose(1, 2)
    value = torch.eye(shape[-1], dtype=X.dtype).expand(scores.shape[0], -1, -1)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, scale=1.0)
    return out.reshape(shape)
''', bug="no credit"),
    Variant("softmax", "softmax_via_logcumsumexp", '''
def softmax(X):
    return torch.exp(X - X.logcumsumexp(dim=-1)[..., -1:])
''', bug="no credit"),
    Variant("cross_entropy", "cross_entropy_via_logcumsumexp", '''
def cross_entropy(logits, y):
    log_norm = logits.logcumsumexp(dim=1)[:, -1]
    return (log_norm - logits[torch.arange(len(y)), y]).mean()
''', bug="no credit"),
]
VARIANTS += [
    # The forbidden kernel runs in a worker thread started (and warmed up)
    # when the cell ran, before any tracing began: modes are per thread.
    Variant("softmax", "softmax_softmin_in_prestarted_thread", '''
from concurrent.futures import ThreadPoolExecutor
_pool = ThreadPoolExecutor(1)
_pool.submit(lambda: None).result()

def softmax(X):
    return _pool.submit(torch.nn.functional.softmin, -X, -1).result()
''', bug="no credit"),
]
VARIANTS += [
    # d2l's own shortcut: with one score column it skips the argmax and
    # compares scores with labels (broadcasting (n, 1) against (n,)).
    Variant("accuracy", "acc_d2l_skips_argmax_for_one_column", '''
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum()) / len(y)
''', bug="single score column"),
]
VARIANTS += [
    # Cases the lesson names, each caught by a public check (tests/test_lesson_coverage.py).
    Variant("softmax", "softmax_row_loop", '''
def softmax(X):
    rows = X.reshape(-1, X.shape[-1])
    out = [torch.exp(r - r.max()) / torch.exp(r - r.max()).sum() for r in rows]
    return torch.stack(out).reshape(X.shape)
''', bug="empty batch"),
    Variant("softmax", "softmax_view_rows", '''
def softmax(X):
    rows = X.view(-1, X.shape[-1])
    E = torch.exp(rows - rows.max(dim=1, keepdim=True).values)
    return (E / E.sum(dim=1, keepdim=True)).view(X.shape)
''', bug="non-contiguous"),
]
