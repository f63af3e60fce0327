"""a4_mlp: classic wrong implementations and correct alternatives."""
from tests.catalogue import Variant

_SGD_HEAD = '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
'''

_RMS_HEAD = '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
'''

_ADAM_HEAD = '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
'''


def _adam(body: str) -> str:
    """An Adam whose per-parameter update is `body` (g, p, state, lr, b1, b2, eps, wd in scope)."""
    return _ADAM_HEAD + '''        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
''' + body + '''        return loss
'''


def _rms(body: str) -> str:
    return _RMS_HEAD + '''        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
''' + body + '''        return loss
'''


def _sgd(body: str) -> str:
    return _SGD_HEAD + '''        for group in self.param_groups:
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
''' + body + '''        return loss
'''


VARIANTS = [
    # ---------------------------------------------------------------- dropout
    Variant("dropout", "dropout_no_rescale", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask
''', bug="were not rescaled"),
    Variant("dropout", "dropout_scale_by_p", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask / p
''', bug="scaled by 1/p"),
    Variant("dropout", "dropout_mask_shared_across_batch", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape[-1], generator=generator) > p   # one mask per feature, reused for every row
    return X * mask / (1 - p)
''', bug="shared across the batch"),
    Variant("dropout", "dropout_probability_one_minus_p", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape, generator=generator) < p).float()   # keeps with probability p
    return X * mask / (1 - p)
''', bug="probability 1 - p"),
    Variant("dropout", "dropout_p_one_nan", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    mask = (torch.rand(X.shape, generator=generator) > p).float()
    return mask * X / (1.0 - p)
''', bug="p == 1 divides by zero"),
    Variant("dropout", "dropout_no_value_error", '''
def dropout(X, p, training=True, generator=None):
    if not training or p == 0:
        return X
    if p >= 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask / (1 - p)
''', bug="raise ValueError"),
    Variant("dropout", "dropout_assert_instead_of_value_error", '''
def dropout(X, p, training=True, generator=None):
    assert 0 <= p <= 1, "p must be a probability"
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask / (1 - p)
''', bug="raise ValueError"),
    Variant("dropout", "dropout_ignores_training", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask / (1 - p)
''', bug="training=False"),
    Variant("dropout", "dropout_ignores_generator", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape) > p
    return X * mask / (1 - p)
''', bug="from the given generator"),
    Variant("dropout", "dropout_reseeds", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    if generator is None:
        generator = torch.Generator().manual_seed(0)   # "for reproducibility"
    mask = torch.rand(X.shape, generator=generator) > p
    return X * mask / (1 - p)
''', bug="re-seed"),
    Variant("dropout", "dropout_detached", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    mask = torch.rand(X.shape, generator=generator) > p
    return torch.tensor((X * mask / (1 - p)).tolist(), dtype=X.dtype)
''', bug="gradient flows to X"),
    Variant("dropout", "dropout_uses_F", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    return F.dropout(X, p, training)
''', bug="no credit"),
    Variant("dropout", "dropout_getattr_torch", '''
def dropout(X, p, training=True, generator=None):
    if not 0 <= p <= 1:
        raise ValueError(p)
    return getattr(torch, "drop" + "out")(X, p, training)
''', bug="no credit"),
    Variant("dropout", "dropout_bernoulli_ok", '''
def dropout(X, p, training=True, generator=None):
    if p < 0 or p > 1:
        raise ValueError(f"p={p} is not a probability")
    if not training or p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    keep = torch.bernoulli(torch.full(X.shape, 1.0 - p, dtype=X.dtype), generator=generator)
    return keep * X / (1.0 - p)
'''),
    Variant("dropout", "dropout_where_ok", '''
def dropout(X, p, training=True, generator=None):
    if not (0.0 <= p <= 1.0):
        raise ValueError("dropout probability out of range")
    if not training:
        return X
    u = torch.rand(X.shape, generator=generator, dtype=X.dtype)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return torch.where(u >= p, X * scale, torch.zeros_like(X))
'''),
    # ---------------------------------------------------------------- Dropout
    Variant("Dropout", "Dropout_always_active", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        return dropout(X, self.p)
''', bug="always active"),
    Variant("Dropout", "Dropout_old_style_scaling", '''
class Dropout(nn.Module):
    """Original (non-inverted) dropout: drop while training, scale by (1 - p) at test time."""
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        if self.training:
            return X * (torch.rand(X.shape) > self.p)
        return X * (1 - self.p)
''', bug="not rescaled"),
    Variant("Dropout", "Dropout_ignores_p", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.rate = p

    def forward(self, X):
        return dropout(X, 0.5, self.training)
''', bug="use the p it was given"),
    Variant("Dropout", "Dropout_wrong_default", '''
class Dropout(nn.Module):
    def __init__(self, p=0.2):
        super().__init__()
        self.p = p

    def forward(self, X):
        return dropout(X, self.p, self.training)
''', bug="default to p = 0.5"),
    Variant("Dropout", "Dropout_eval_returns_zeros_like_mask", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, X):
        # evaluation mode "uses the expected mask": keeps the 1/(1-p) scaling
        return dropout(X, self.p, True) if self.training else X / (1 - self.p)
''', bug="return X unchanged"),
    Variant("Dropout", "Dropout_wraps_nn_Dropout", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.inner = nn.Dropout(p)

    def forward(self, X):
        return self.inner(X)
''', bug="no credit"),
    Variant("Dropout", "Dropout_inline_ok", '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = float(p)

    def forward(self, X):
        if not self.training or self.p == 0.0:
            return X
        if self.p == 1.0:
            return X * 0.0
        keep = (torch.rand_like(X) > self.p).to(X.dtype)
        return X * keep * (1.0 / (1.0 - self.p))
'''),
    # ---------------------------------------------------------------- MLP
    Variant("MLP", "mlp_no_relu", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), Dropout(dropout)]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="apply ReLU after each hidden Linear"),
    Variant("MLP", "mlp_dropout_on_input", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [Dropout(dropout), nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="dropout to the input"),
    Variant("MLP", "mlp_dropout_on_output", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens, num_outputs]
        layers = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
            layers.append(Dropout(dropout))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="dropout to the output layer"),
    Variant("MLP", "mlp_plain_list", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        self.layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            self.layers += [nn.Linear(a, b), nn.ReLU(), Dropout(dropout)]
        self.layers.append(nn.Linear(widths[-1], num_outputs))

    def forward(self, X):
        X = X.reshape(len(X), -1)
        for layer in self.layers:
            X = layer(X)
        return X
''', bug="not registered"),
    Variant("MLP", "mlp_dropout_only_first_layer", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Linear(a, b), nn.ReLU()]
            if i == 0:
                layers.append(Dropout(dropout))
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="after every hidden layer"),
    Variant("MLP", "mlp_relu_on_logits", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU(), Dropout(dropout)]
        layers += [nn.Linear(widths[-1], num_outputs), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="no ReLU after the output layer"),
    Variant("MLP", "mlp_dropout_before_relu", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), Dropout(dropout), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="then ReLU, then Dropout"),
    Variant("MLP", "mlp_torch_dropout", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        widths = [num_inputs, *num_hiddens]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(widths[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="your own Dropout class"),
    Variant("MLP", "mlp_first_hidden_only", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens[0]), nn.ReLU(), Dropout(dropout),
                                 nn.Linear(num_hiddens[0], num_outputs))

    def forward(self, X):
        return self.net(X)
''', bug="one Linear per width"),
    Variant("MLP", "mlp_assumes_a_hidden_layer", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        layers = [nn.Flatten()]
        for a, b in zip([num_inputs, *num_hiddens[:-1]], num_hiddens):
            layers += [nn.Linear(a, b), nn.ReLU(), Dropout(dropout)]
        layers.append(nn.Linear(num_hiddens[-1], num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, X):
        return self.net(X)
''', bug="num_hiddens may be empty"),
    Variant("MLP", "mlp_modulelist_ok", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        sizes = [num_inputs] + list(num_hiddens)
        self.hidden = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes, sizes[1:]))
        self.drops = nn.ModuleList(Dropout(dropout) for _ in num_hiddens)
        self.out = nn.Linear(sizes[-1], num_outputs)

    def forward(self, X):
        H = X.flatten(1)
        for linear, drop in zip(self.hidden, self.drops):
            H = drop(F.relu(linear(H)))
        return self.out(H)
'''),
    Variant("MLP", "mlp_output_defined_first_ok", '''
class MLP(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, dropout=0.0):
        super().__init__()
        last = num_hiddens[-1] if num_hiddens else num_inputs
        self.head = nn.Linear(last, num_outputs)          # registered before the body
        blocks = []
        for fan_in, fan_out in zip([num_inputs, *num_hiddens], num_hiddens):
            blocks += [nn.Linear(fan_in, fan_out), nn.ReLU(inplace=True), Dropout(dropout)]
        self.body = nn.Sequential(*blocks)

    def forward(self, X):
        return self.head(self.body(X.reshape(X.shape[0], -1)))
'''),
    # ------------------------------------------------------------ SGDMomentum
    Variant("SGDMomentum", "sgd_ema_from_zero", _sgd('''
                if wd:
                    g = g + wd * p
                if m:
                    buf = state.setdefault("momentum_buffer", torch.zeros_like(p))
                    buf.mul_(m).add_(g, alpha=1 - m)
                    g = buf
                p.add_(g, alpha=-lr)
'''), bug="started at zero"),
    Variant("SGDMomentum", "sgd_dampened", _sgd('''
                if wd:
                    g = g + wd * p
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"] = m * state["momentum_buffer"] + (1 - m) * g
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-lr)
'''), bug="no (1 - momentum) factor"),
    Variant("SGDMomentum", "sgd_stale_buffer", _sgd('''
                if wd:
                    g = g + wd * p
                if m:
                    buf = state.setdefault("momentum_buffer", torch.zeros_like(p))
                    p.add_(buf, alpha=-lr)
                    buf.mul_(m).add_(g)
                else:
                    p.add_(g, alpha=-lr)
'''), bug="before adding the current gradient"),
    Variant("SGDMomentum", "sgd_weight_decay_after_step", _sgd('''
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(m).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-lr)
                p.mul_(1 - lr * wd)
'''), bug="weight decay applied after the step"),
    Variant("SGDMomentum", "sgd_weight_decay_outside_buffer", _sgd('''
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(m).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g + wd * p, alpha=-lr)
'''), bug="through the momentum buffer"),
    Variant("SGDMomentum", "sgd_no_none_skip", _SGD_HEAD + '''
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad + group["weight_decay"] * p
                if group["momentum"]:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-group["lr"])
        return loss
''', bug="skip parameters whose .grad is None"),
    Variant("SGDMomentum", "sgd_closure_without_enable_grad", '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                if group["momentum"]:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-group["lr"])
        return loss
''', bug="enable_grad"),
    Variant("SGDMomentum", "sgd_hyperparameters_on_self", '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + self.weight_decay * p
                if self.momentum:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(self.momentum).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-self.lr)
        return loss
''', bug="from each param group"),
    Variant("SGDMomentum", "sgd_state_outside_self_state", '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.velocity = {}

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                if group["momentum"]:
                    v = self.velocity.get(p)
                    v = g.clone() if v is None else group["momentum"] * v + g
                    self.velocity[p] = v
                    g = v
                p.add_(g, alpha=-group["lr"])
        return loss
''', bug="self.state[p]"),
    Variant("SGDMomentum", "sgd_subclasses_torch", '''
class SGDMomentum(torch.optim.SGD):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
''', bug="no credit"),
    Variant("SGDMomentum", "sgd_functional_form_hidden", '''
import importlib

class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        kernel = getattr(importlib.import_module("torch.optim." + "s" + "gd"), "s" + "gd")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            buffers = [self.state[p].get("momentum_buffer") for p in params]
            kernel(params, [p.grad for p in params], buffers, weight_decay=group["weight_decay"],
                   momentum=group["momentum"], lr=group["lr"], dampening=0.0, nesterov=False, maximize=False)
            if group["momentum"]:
                for p, b in zip(params, buffers):
                    self.state[p]["momentum_buffer"] = b
        return loss
''', bug="no credit"),
    Variant("SGDMomentum", "sgd_zeros_buffer_ok", '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in (q for q in group["params"] if q.grad is not None):
                    d_p = p.grad.clone()
                    if group["weight_decay"]:
                        d_p += group["weight_decay"] * p
                    if group["momentum"]:
                        # a zero buffer is the same as torch's first-gradient start: 0 * momentum + g = g
                        buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                        buf.mul_(group["momentum"]).add_(d_p)
                        d_p = buf
                    p -= group["lr"] * d_p
        return loss
'''),
    # ---------------------------------------------------------------- RMSprop
    Variant("RMSprop", "rms_eps_after_division", _rms('''
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(p)
                state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.sub_(lr * (g / state["square_avg"].sqrt() + eps))
'''), bug="eps added after the division"),
    Variant("RMSprop", "rms_eps_inside_sqrt", _rms('''
                v = state.setdefault("square_avg", torch.zeros_like(p))
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.sub_(lr * g / torch.sqrt(v + eps))
'''), bug="eps inside the square root"),
    Variant("RMSprop", "rms_starts_at_first_square", _rms('''
                if "square_avg" not in state:
                    state["square_avg"] = g * g
                else:
                    state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.sub_(lr * g / (state["square_avg"].sqrt() + eps))
'''), bug="not at the first squared gradient"),
    Variant("RMSprop", "rms_alpha_swapped", _rms('''
                v = state.setdefault("square_avg", torch.zeros_like(p))
                v.mul_(1 - alpha).addcmul_(g, g, value=alpha)
                p.sub_(lr * g / (v.sqrt() + eps))
'''), bug="alpha weights the old average"),
    Variant("RMSprop", "rms_no_sqrt", _rms('''
                v = state.setdefault("square_avg", torch.zeros_like(p))
                v.mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.sub_(lr * g / (v + eps))
'''), bug="square root of the running average"),
    Variant("RMSprop", "rms_grad_as_zero", _RMS_HEAD + '''
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad if p.grad is not None else torch.zeros_like(p)
                v = self.state[p].setdefault("square_avg", torch.zeros_like(p))
                v.mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
                p.sub_(group["lr"] * g / (v.sqrt() + group["eps"]))
        return loss
''', bug="skip parameters whose .grad is None"),
    Variant("RMSprop", "rms_closure_result_dropped", '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        if closure is not None:
            with torch.enable_grad():
                closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].setdefault("square_avg", torch.zeros_like(p))
                v.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.sub_(group["lr"] * p.grad / (v.sqrt() + group["eps"]))
''', bug="return the loss it returned"),
    Variant("RMSprop", "rms_wraps_torch", '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        params = list(params)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))
        self.inner = torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps)
        self.state = self.inner.state

    def step(self, closure=None):
        return self.inner.step(closure)
''', bug="no credit"),
    Variant("RMSprop", "rms_functional_by_name", '''
import importlib

class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        kernel = getattr(importlib.import_module("torch.optim.rms" + "prop"), "_single_tensor_rms" + "prop")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if not self.state[p]:
                    self.state[p]["step"] = torch.tensor(0.0)
                    self.state[p]["square_avg"] = torch.zeros_like(p)
            kernel(params, [p.grad for p in params], [self.state[p]["square_avg"] for p in params], [], [],
                   [self.state[p]["step"] for p in params], lr=group["lr"], alpha=group["alpha"],
                   eps=group["eps"], weight_decay=0.0, momentum=0.0, centered=False, maximize=False,
                   differentiable=False, capturable=False, has_complex=False)
        return loss
''', bug="no credit"),
    Variant("RMSprop", "rms_tensor_step_ok", '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = torch.tensor(0.0)
                    st["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["step"] += 1
                st["square_avg"].mul_(group["alpha"]).add_((1 - group["alpha"]) * p.grad ** 2)
                p.sub_(group["lr"] * p.grad / (st["square_avg"].sqrt() + group["eps"]))
        return loss
'''),
    # ------------------------------------------------------------------- Adam
    Variant("Adam", "adam_no_bias_correction", _adam('''
                if wd:
                    g = g + wd * p
                state["step"] += 1
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                p.sub_(lr * state["exp_avg"] / (state["exp_avg_sq"].sqrt() + eps))
'''), bug="without bias correction"),
    Variant("Adam", "adam_eps_inside_sqrt", _adam('''
                if wd:
                    g = g + wd * p
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / torch.sqrt(v_hat + eps))
'''), bug="eps inside the square root"),
    Variant("Adam", "adam_eps_after_division", _adam('''
                if wd:
                    g = g + wd * p
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * (m_hat / v_hat.sqrt() + eps))
'''), bug="eps added after the division"),
    Variant("Adam", "adam_eps_before_bias_correction", _adam('''
                if wd:
                    g = g + wd * p
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                denom = (state["exp_avg_sq"].sqrt() + eps) / math.sqrt(1 - b2 ** t)
                p.sub_(lr * m_hat / denom)
'''), bug="eps added before v is bias-corrected"),
    Variant("Adam", "adam_weight_decay_after_step", _adam('''
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
                p.sub_(lr * wd * p)
'''), bug="weight decay applied after the step"),
    Variant("Adam", "adam_decoupled_adamw", _adam('''
                p.mul_(1 - lr * wd)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
'''), bug="as AdamW does"),
    Variant("Adam", "adam_global_step", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.t += 1
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] = self.t
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** self.t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** self.t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss
''', bug="count steps per parameter"),
    Variant("Adam", "adam_bias_correction_before_increment", _adam('''
                if wd:
                    g = g + wd * p
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
                state["step"] += 1
'''), bug="step count before the bias corrections"),
    Variant("Adam", "adam_subclasses_torch", '''
class Adam(torch.optim.Adam):
    pass
''', bug="no credit"),
    Variant("Adam", "adam_functional_by_name", '''
import importlib

class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        kernel = getattr(importlib.import_module("torch.optim.ad" + "am"), "ad" + "am")
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if not self.state[p]:
                    self.state[p].update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
            s = [self.state[p] for p in params]
            kernel(params, [p.grad for p in params], [x["exp_avg"] for x in s], [x["exp_avg_sq"] for x in s], [],
                   [x["step"] for x in s], amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1],
                   lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
        return loss
''', bug="no credit"),
    Variant("Adam", "adam_explicit_hats_ok", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad if group["weight_decay"] == 0 else p.grad + group["weight_decay"] * p
                state = self.state[p]
                if "step" not in state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"].item()
                state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
                state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
                m_hat = state["exp_avg"] / (1 - beta1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
                p -= group["lr"] * m_hat / (v_hat.sqrt() + group["eps"])
        return loss
'''),
    # ---------------------------------------------------------- save_checkpoint
    Variant("save_checkpoint", "save_model_object", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model_state_dict": model, "optimizer_state_dict": optimizer.state_dict()}, path)
''', bug="not the model or optimizer objects"),
    Variant("save_checkpoint", "save_optimizer_object", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer}, path)
''', bug="weights_only"),
    Variant("save_checkpoint", "save_forgets_optimizer", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict()}, path)
''', bug="save the optimizer state too"),
    Variant("save_checkpoint", "save_wrong_keys", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
''', bug="recipe keys"),
    Variant("save_checkpoint", "save_only_weights", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save(model.state_dict(), path)
''', bug="recipe keys"),
    Variant("save_checkpoint", "save_epoch_tensor", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": torch.tensor(epoch), "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, path)
''', bug="as a Python int"),
    Variant("save_checkpoint", "save_next_epoch", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch + 1, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, path)
''', bug="save the epoch you are given"),
    Variant("save_checkpoint", "save_fixed_file_name", '''
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, "checkpoint.pt")
''', bug="write to the path you are given"),
    Variant("save_checkpoint", "save_with_extras_ok", '''
def save_checkpoint(path, model, optimizer, epoch):
    checkpoint = dict(epoch=epoch, model_state_dict=model.state_dict(), optimizer_state_dict=optimizer.state_dict(),
                      rng_state=torch.get_rng_state())
    with open(path, "wb") as handle:
        torch.save(checkpoint, handle)
'''),
    # ---------------------------------------------------------- load_checkpoint
    Variant("load_checkpoint", "load_forgets_optimizer", '''
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    return checkpoint["epoch"]
''', bug="restore the optimizer too"),
    Variant("load_checkpoint", "load_new_optimizer_inside", '''
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer = type(optimizer)(model.parameters(), lr=optimizer.defaults["lr"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]
''', bug="restore the optimizer too"),
    Variant("load_checkpoint", "load_returns_next_epoch", '''
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"] + 1
''', bug="not epoch + 1"),
    Variant("load_checkpoint", "load_forgets_model", '''
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]
''', bug="restore the model in place"),
    Variant("load_checkpoint", "load_rebinds_model", '''
def load_checkpoint(path, model, optimizer):
    import copy
    checkpoint = torch.load(path, weights_only=True)
    model = copy.deepcopy(model)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint["epoch"]
''', bug="restore the model in place"),
    Variant("load_checkpoint", "load_returns_checkpoint", '''
def load_checkpoint(path, model, optimizer):
    checkpoint = torch.load(path, weights_only=True)
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    return checkpoint
''', bug="return checkpoint['epoch']"),
    Variant("load_checkpoint", "load_map_location_ok", '''
def load_checkpoint(path, model, optimizer):
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model_state_dict"], strict=True)
    optimizer.load_state_dict(state["optimizer_state_dict"])
    epoch = state["epoch"]
    return epoch
'''),
]

VARIANTS += [
    # Optimizer state under the learner's own names (issue 8, class 6): judged by the parameters only.
    Variant("SGDMomentum", "sgd_velocity_key_ok", '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.add(p, alpha=group["weight_decay"])
                if group["momentum"]:
                    state = self.state[p]
                    if "velocity" in state:
                        state["velocity"] = group["momentum"] * state["velocity"] + d_p
                    else:
                        state["velocity"] = torch.clone(d_p).detach()
                    d_p = state["velocity"]
                p.sub_(group["lr"] * d_p)
        return loss
'''),
    Variant("RMSprop", "rms_v_key_ok", '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].get("v")
                if v is None:
                    v = self.state[p]["v"] = torch.zeros_like(p)
                v.mul_(group["alpha"]).add_(p.grad * p.grad, alpha=1 - group["alpha"])
                p.sub_(group["lr"] * p.grad / (v.sqrt() + group["eps"]))
        return loss
'''),
    Variant("Adam", "adam_m_v_t_keys_ok", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                st = self.state[p]
                if "t" not in st:
                    st["t"] = 0
                    st["moments"] = [torch.zeros_like(p), torch.zeros_like(p)]   # [m, v]
                st["t"] += 1
                m, v = st["moments"]
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                m_hat = m / (1 - b1 ** st["t"])
                v_hat = v / (1 - b2 ** st["t"])
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss
'''),
    # What slipped through: p.grad changed by step (the same gradient kept for another step then drifts).
    Variant("SGDMomentum", "sgd_weight_decay_into_grad", _sgd('''
                if wd:
                    p.grad.add_(p, alpha=wd)
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(m).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-lr)
'''), bug="added into p.grad in place"),
    Variant("Adam", "adam_weight_decay_into_grad", _adam('''
                if wd:
                    g.add_(p, alpha=wd)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
'''), bug="added into p.grad in place"),
    Variant("SGDMomentum", "sgd_buffer_is_grad_in_place", _sgd('''
                if wd:
                    g = g + wd * p
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g
                    else:
                        state["momentum_buffer"].mul_(m).add_(g)
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-lr)
'''), bug="buf = g.clone()"),
    Variant("SGDMomentum", "sgd_buffer_is_grad_by_reference", _sgd('''
                if wd:
                    g = g + wd * p
                if m:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g
                    else:
                        state["momentum_buffer"] = m * state["momentum_buffer"] + g
                    g = state["momentum_buffer"]
                p.add_(g, alpha=-lr)
'''), bug="follows p.grad"),
    # The learning rate from the constructor, not the param group: a scheduler's changes are ignored.
    Variant("Adam", "adam_lr_from_constructor", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.lr = lr

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(self.lr * m_hat / (v_hat.sqrt() + eps))
        return loss
''', bug="from each param group"),
    Variant("RMSprop", "rms_lr_from_constructor", '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps))
        self.step_size = lr

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                v = self.state[p].setdefault("square_avg", torch.zeros_like(p))
                v.mul_(group["alpha"]).addcmul_(p.grad, p.grad, value=1 - group["alpha"])
                p.sub_(self.step_size * p.grad / (v.sqrt() + group["eps"]))
        return loss
''', bug="from each param group"),
]
