"""a1_autograd: classic wrong implementations and correct alternatives."""
from tests.catalogue import Variant

# The reference Value, as a template: each wrong variant changes one thing.
_VALUE = '''
class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, p):
        out = Value(self.data ** p, (self,))
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,))
        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))
        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(math.log(self.data), (self,))
        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1
'''


def _value(old: str, new: str) -> str:
    assert _VALUE.count(old) == 1, old
    return _VALUE.replace(old, new)


VARIANTS = [
    # --------------------------------------------------------- numerical_grad
    Variant("numerical_grad", "ng_forward_difference", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros(x.shape, dtype=x.dtype)
    fx = float(f(x))
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + eps
        grad.view(-1)[i] = (float(f(x)) - fx) / eps
        x.view(-1)[i] = old
    return grad
''', bug="one-sided"),
    Variant("numerical_grad", "ng_backward_difference", '''
import itertools

def numerical_grad(f, x, eps=1e-6):
    grad = torch.zeros(x.shape, dtype=x.dtype)
    fx = f(x).item()
    for idx in itertools.product(*(range(n) for n in x.shape)):
        x_minus = x.clone()
        x_minus[idx] -= eps
        grad[idx] = (fx - f(x_minus).item()) / eps
    return grad
''', bug="one-sided"),
    Variant("numerical_grad", "ng_restore_by_arithmetic", '''
import itertools

def numerical_grad(f, x, eps=1e-6):
    grad = torch.zeros(x.shape, dtype=x.dtype)
    for idx in itertools.product(*(range(n) for n in x.shape)):
        x[idx] += eps
        f_plus = f(x).item()
        x[idx] -= 2 * eps
        f_minus = f(x).item()
        x[idx] += eps
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
''', bug="changed x"),
    Variant("numerical_grad", "ng_never_restores", '''
def numerical_grad(f, x, eps=1e-6):
    grad = torch.zeros(x.shape, dtype=x.dtype)
    flat = x.view(-1) if x.is_contiguous() else x.reshape(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        f_plus = f(x).item()
        flat[i] = old - eps
        f_minus = f(x).item()
        grad.view(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''', bug="changed x"),
    Variant("numerical_grad", "ng_reshape_copy", '''
def numerical_grad(f, x, eps=1e-6):
    grad = torch.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.numel()):
        old = flat_x[i].item()
        flat_x[i] = old + eps
        f_plus = f(x).item()
        flat_x[i] = old - eps
        f_minus = f(x).item()
        flat_x[i] = old
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''', bug="is a copy"),
    Variant("numerical_grad", "ng_eps_too_large", '''
def numerical_grad(f, x, eps=1e-2):
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros(x.shape, dtype=x.dtype)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + eps
        f_plus = float(f(x))
        x.view(-1)[i] = old - eps
        f_minus = float(f(x))
        x.view(-1)[i] = old
        grad.view(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''', bug="your step is"),
    Variant("numerical_grad", "ng_returns_list", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grads = []
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + eps
        f_plus = float(f(x))
        x.view(-1)[i] = old - eps
        f_minus = float(f(x))
        x.view(-1)[i] = old
        grads.append((f_plus - f_minus) / (2 * eps))
    return grads
''', bug="not a list"),
    Variant("numerical_grad", "ng_float32_result", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros(x.shape)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + eps
        f_plus = float(f(x))
        x.view(-1)[i] = old - eps
        f_minus = float(f(x))
        x.view(-1)[i] = old
        grad.view(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''', bug="too few digits"),
    Variant("numerical_grad", "ng_forgets_two", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros(x.shape, dtype=x.dtype)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + eps
        f_plus = float(f(x))
        x.view(-1)[i] = old - eps
        f_minus = float(f(x))
        x.view(-1)[i] = old
        grad.view(-1)[i] = (f_plus - f_minus) / eps
    return grad
''', bug="divide by 2 * eps"),
    Variant("numerical_grad", "ng_uses_autograd", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone().requires_grad_(True)
    f(x).backward()
    return x.grad
''', bug="no credit"),
    Variant("numerical_grad", "ng_getattr_autograd", '''
def numerical_grad(f, x, eps=1e-6):
    x = x.detach().clone().requires_grad_(True)
    module = getattr(torch, "auto" + "grad")
    return getattr(module, "gr" + "ad")(f(x), x)[0]
''', bug="no credit"),
    Variant("numerical_grad", "ng_clone_per_element_ok", '''
import itertools

def numerical_grad(f, x, eps=1e-6):
    grad = torch.empty(x.shape, dtype=x.dtype)
    for idx in itertools.product(*(range(n) for n in x.shape)):
        x_plus, x_minus = x.clone(), x.clone()
        x_plus[idx] += eps
        x_minus[idx] -= eps
        grad[idx] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return grad
'''),
    Variant("numerical_grad", "ng_basis_vectors_ok", '''
def numerical_grad(f, x, eps=1e-6):
    n = x.numel()
    basis = torch.eye(n, dtype=x.dtype)
    partials = [(f(x + eps * basis[i].reshape(x.shape)) - f(x - eps * basis[i].reshape(x.shape))) / (2 * eps)
                for i in range(n)]
    return torch.stack(partials).reshape(x.shape) if n else torch.zeros_like(x)
'''),
    # ------------------------------------------------------------------ Value
    Variant("Value", "value_assign_not_accumulate", _VALUE.replace("self.grad += out.grad\n            other.grad += out.grad",
                                                                   "self.grad = out.grad\n            other.grad = out.grad")
            .replace("self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
                     "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),
            bug="use += in every backward rule"),
    Variant("Value", "value_naive_recursion", _value('''    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
''', '''    def backward(self, _root=True):
        if _root:
            self.grad = 1.0
        self._backward()
        for child in self._prev:
            child.backward(_root=False)
'''), bug="visited a node more than once"),
    Variant("Value", "value_micrograd_set_prev_naive_recursion", _value("self._prev = tuple(_children)", "self._prev = set(_children)")
            .replace('''        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
''', '''        self.grad = 1.0
        stack = [self]
        while stack:
            v = stack.pop()
            v._backward()
            stack.extend(v._prev)
'''), bug="visited a node more than once"),
    Variant("Value", "value_wrong_pow_rule", _value("self.grad += p * self.data ** (p - 1) * out.grad",
                                                    "self.grad += p * self.data ** p * out.grad"), bug="a ** p"),
    Variant("Value", "value_rsub_sign", _value('''    def __rsub__(self, other):
        return other + (-self)''', '''    def __rsub__(self, other):
        return self - other'''), bug="__rsub__"),
    Variant("Value", "value_log_missing_reciprocal", _value("self.grad += out.grad / self.data", "self.grad += out.grad"),
            bug="1/a"),
    Variant("Value", "value_no_radd", _value('''    def __radd__(self, other):
        return self + other
''', ''), bug="__radd__"),
    Variant("Value", "value_rtruediv_swapped", _value("return other * self ** -1", "return self * other ** -1"),
            bug="__rtruediv__"),
    Variant("Value", "value_tanh_ignores_out_grad", _value("self.grad += (1 - t ** 2) * out.grad", "self.grad += 1 - t ** 2"),
            bug="must multiply by out.grad"),
    Variant("Value", "value_no_number_wrapping", _value('''    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
''', '''    def __add__(self, other):
'''), bug="wrap plain numbers"),
    Variant("Value", "value_relu_passes_everything", _value("self.grad += (out.data > 0) * out.grad", "self.grad += out.grad"),
            bug="relu's backward"),
    Variant("Value", "value_uses_torch", _value("t = math.tanh(self.data)", "t = torch.tanh(torch.tensor(self.data)).item()"),
            bug="no credit"),
    Variant("Value", "value_local_grads_iterative_ok", '''
class Value:
    """Each node stores its parents and the local derivative towards each."""

    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._local_grads = local_grads

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value._lift(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = Value._lift(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, p):
        return Value(self.data ** p, (self,), (p * self.data ** (p - 1),))

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,))

    def __sub__(self, other):
        other = Value._lift(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other):
        return Value._lift(other) - self

    def __truediv__(self, other):
        other = Value._lift(other)
        return Value(self.data / other.data, (self, other), (1 / other.data, -self.data / other.data ** 2))

    def __rtruediv__(self, other):
        return Value._lift(other) / self

    __radd__ = __add__
    __rmul__ = __mul__

    def relu(self):
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative post-order depth-first search
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node._parents, node._local_grads):
                parent.grad += local * node.grad
'''),
    Variant("Value", "value_kahn_order_ok", _value('''    def backward(self):
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()
''', '''    def backward(self):
        # Kahn's algorithm: a node runs once all nodes that use it have run.
        pending, nodes, frontier = {}, [], [self]
        seen = {id(self)}
        while frontier:
            v = frontier.pop()
            nodes.append(v)
            for child in v._prev:
                pending[id(child)] = pending.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    frontier.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            v = ready.pop()
            v._backward()
            for child in v._prev:
                pending[id(child)] -= 1
                if pending[id(child)] == 0:
                    ready.append(child)
''')),
    # ---------------------------------------------------------------- Sigmoid
    Variant("Sigmoid", "sigmoid_derivative_from_x_overflows", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 1 / (1 + torch.exp(-x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        e = torch.exp(-x)
        return grad_output * e / (1 + e) ** 2
''', bug="the gradient overflows"),
    Variant("Sigmoid", "sigmoid_exp_ratio_nan", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(x)
        s = e / (1 + e)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="exp(-|x|)"),
    Variant("Sigmoid", "sigmoid_saves_input_as_output", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        z = torch.exp(-x.abs())
        return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="saved input"),
    Variant("Sigmoid", "sigmoid_wrong_derivative", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        z = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 + s)
''', bug="the derivative of the sigmoid is"),
    Variant("Sigmoid", "sigmoid_forgets_grad_output", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        z = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (1 - s)
''', bug="multiply by grad_output"),
    Variant("Sigmoid", "sigmoid_ctx_attribute", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        z = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
        ctx.s = s
        return s

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.s * (1 - ctx.s)
''', bug="not as ctx attributes"),
    Variant("Sigmoid", "sigmoid_autograd_in_backward", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        z = torch.exp(-x.abs())
        return torch.where(x >= 0, 1 / (1 + z), z / (1 + z))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            z = torch.exp(-x.abs())
            s = torch.where(x >= 0, 1 / (1 + z), z / (1 + z))
            (grad,) = torch.autograd.grad(s, x, grad_output)
        return grad
''', bug="torch.autograd.grad inside backward"),
    Variant("Sigmoid", "sigmoid_torch_sigmoid", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="no credit"),
    Variant("Sigmoid", "sigmoid_expit_via_getattr", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = getattr(torch.special, "ex" + "pit")(x)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="no credit"),
    Variant("Sigmoid", "sigmoid_tanh_form_ok", '''
class Sigmoid(torch.autograd.Function):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: tanh never overflows."""

    @staticmethod
    def forward(ctx, x):
        s = 0.5 * (1 + torch.tanh(0.5 * x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
'''),
    Variant("Sigmoid", "sigmoid_saves_input_recomputes_ok", '''
def _stable_sigmoid(x):
    z = torch.exp(-torch.abs(x))
    return torch.where(x < 0, z, torch.ones_like(z)) / (1 + z)

class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _stable_sigmoid(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        s = _stable_sigmoid(x)
        return grad_output * s * (1 - s)
'''),
]

VARIANTS += [
    # Printing a tensor calls torch's forward-AD unpacking: not a use of autograd.
    Variant("numerical_grad", "ng_prints_tensors_ok", '''
import itertools

def numerical_grad(f, x, eps=1e-6):
    print("x =", x)
    grad = torch.zeros_like(x)
    for index in itertools.product(*(range(n) for n in x.shape)):
        x_plus, x_minus = x.clone(), x.clone()
        x_plus[index] += eps
        x_minus[index] -= eps
        grad[index] = (f(x_plus) - f(x_minus)) / (2 * eps)
    print("grad =", grad)
    return grad
'''),
]

VARIANTS += [
    # Other paths to a sigmoid (issue 8, class 2): correct values and gradients,
    # so only the forbidden-call detection can catch them.
    Variant("Sigmoid", "sigmoid_via_silu", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        safe = torch.where(x == 0, torch.ones_like(x), x)
        s = torch.where(x == 0, torch.full_like(x, 0.5), torch.nn.functional.silu(safe) / safe)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="no credit"),
    Variant("Sigmoid", "sigmoid_via_softplus", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.exp(-torch.nn.functional.softplus(-x, threshold=1e4))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="no credit"),
    Variant("Sigmoid", "sigmoid_via_glu", '''
class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.nn.functional.glu(torch.stack([torch.ones_like(x), x]), dim=0).reshape(x.shape)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
''', bug="no credit"),
]
VARIANTS += [
    # The lesson says backward() accumulates as PyTorch's does; a public check
    # catches a backward that zeroes the graph first (tests/test_lesson_coverage.py).
    Variant("Value", "value_backward_resets_grads", _value('''        build(self)
        self.grad = 1.0
''', '''        build(self)
        for v in topo:
            v.grad = 0.0
        self.grad = 1.0
'''), bug="never resets its ancestors"),
]
