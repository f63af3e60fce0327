"""a2_linear_regression: classic wrong implementations and correct alternatives."""
from tests.catalogue import Variant

VARIANTS = [
    # --------------------------------------------------------- synthetic_data
    Variant("synthetic_data", "sd_no_noise", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    return X, y.reshape((-1, 1))
''', bug="add Gaussian noise"),
    Variant("synthetic_data", "sd_noise_std_1", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y += torch.normal(0, 1, y.shape, generator=generator, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="has standard deviation 0.01"),
    Variant("synthetic_data", "sd_noise_variance_as_std", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y += torch.normal(0, 0.01 ** 2, y.shape, generator=generator, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="not the variance"),
    Variant("synthetic_data", "sd_labels_not_a_column", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y += torch.normal(0, 0.01, y.shape, generator=generator, dtype=w.dtype)
    return X, y
''', bug="shape (num_examples, 1)"),
    Variant("synthetic_data", "sd_ignores_generator", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), dtype=w.dtype)
    y = X @ w + b
    y += torch.normal(0, 0.01, y.shape, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="draw every random number from generator"),
    Variant("synthetic_data", "sd_noise_from_global_rng", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y += 0.01 * torch.randn(y.shape, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="draw every random number from generator"),
    Variant("synthetic_data", "sd_uniform_features", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.rand((num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y += torch.normal(0, 0.01, y.shape, generator=generator, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="standard normal"),
    Variant("synthetic_data", "sd_forgets_b", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w
    y += torch.normal(0, 0.01, y.shape, generator=generator, dtype=w.dtype)
    return X, y.reshape((-1, 1))
''', bug="with the w and b you were given"),
    # d2l's own code (with the generator): float32 by default, as the contract says.
    Variant("synthetic_data", "sd_d2l_default_dtype_ok", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator)
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape, generator=generator)
    return X, y.reshape((-1, 1))
'''),
    Variant("synthetic_data", "sd_float64", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.normal(0, 1, (num_examples, len(w)), generator=generator, dtype=torch.float64)
    y = X @ w.double() + b
    y += torch.normal(0, 0.01, y.shape, generator=generator, dtype=torch.float64)
    return X, y.reshape((-1, 1))
''', bug="should be float32"),
    Variant("synthetic_data", "sd_randn_column_ok", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.randn(num_examples, w.shape[0], generator=generator, dtype=w.dtype)
    noise = 0.01 * torch.randn(num_examples, 1, generator=generator, dtype=w.dtype)
    return X, X @ w.reshape(-1, 1) + b + noise
'''),
    Variant("synthetic_data", "sd_normal_in_place_ok", '''
def synthetic_data(w, b, num_examples, generator=None):
    X = torch.empty(num_examples, len(w), dtype=w.dtype).normal_(generator=generator)
    y = torch.mv(X, w).add(b)
    y = y + torch.empty_like(y).normal_(0.0, 0.01, generator=generator)
    return X, y.unsqueeze(1)
'''),
    # --------------------------------------------------------------- data_iter
    Variant("data_iter", "di_no_shuffle", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    for i in range(0, num_examples, batch_size):
        yield features[i: i + batch_size], labels[i: i + batch_size]
''', bug="shuffle the examples"),
    Variant("data_iter", "di_drops_last_batch", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    indices = torch.randperm(num_examples, generator=generator)
    for i in range(0, num_examples - batch_size + 1, batch_size):
        batch_indices = indices[i: i + batch_size]
        yield features[batch_indices], labels[batch_indices]
''', bug="keep the last, smaller batch"),
    Variant("data_iter", "di_shuffles_separately", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    feature_order = torch.randperm(num_examples, generator=generator)
    label_order = torch.randperm(num_examples, generator=generator)
    for i in range(0, num_examples, batch_size):
        yield features[feature_order[i: i + batch_size]], labels[label_order[i: i + batch_size]]
''', bug="keep features and labels paired"),
    Variant("data_iter", "di_reseeds_global_rng", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    torch.manual_seed(0)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: i + batch_size]
        yield features[batch_indices], labels[batch_indices]
''', bug="new random order on every pass"),
    Variant("data_iter", "di_python_random_shuffle", '''
import random

def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]
''', bug="draw the order from generator alone"),
    Variant("data_iter", "di_ignores_generator", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: i + batch_size]
        yield features[batch_indices], labels[batch_indices]
''', bug="draw the order from generator alone"),
    Variant("data_iter", "di_with_replacement", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    indices = torch.randint(0, num_examples, (num_examples,), generator=generator)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: i + batch_size]
        yield features[batch_indices], labels[batch_indices]
''', bug="exactly once per pass"),
    Variant("data_iter", "di_shuffles_batches_only", '''
def data_iter(batch_size, features, labels, generator=None):
    num_examples = len(features)
    starts = torch.arange(0, num_examples, batch_size)
    for start in starts[torch.randperm(len(starts), generator=generator)].tolist():
        yield features[start: start + batch_size], labels[start: start + batch_size]
''', bug="not only the order of fixed batches"),
    Variant("data_iter", "di_uses_dataloader", '''
def data_iter(batch_size, features, labels, generator=None):
    dataset = torch.utils.data.TensorDataset(features, labels)
    yield from DataLoader(dataset, batch_size, shuffle=True, generator=generator)
''', bug="no credit"),
    Variant("data_iter", "di_argsort_split_ok", '''
def data_iter(batch_size, features, labels, generator=None):
    order = torch.rand(len(features), generator=generator).argsort()
    for batch in torch.split(order, batch_size):
        yield features[batch], labels[batch]
'''),
    Variant("data_iter", "di_index_select_ok", '''
def data_iter(batch_size, features, labels, generator=None):
    n = features.shape[0]
    perm = torch.randperm(n, generator=generator)
    start = 0
    while start < n:
        idx = perm[start:min(start + batch_size, n)]
        yield features.index_select(0, idx), labels.index_select(0, idx)
        start += batch_size
'''),
    # ------------------------------------------------------------ squared_loss
    Variant("squared_loss", "sl_no_reshape", '''
def squared_loss(y_hat, y):
    return (y_hat - y) ** 2 / 2
''', bug="reshape y to y_hat's shape"),
    Variant("squared_loss", "sl_no_half", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2
''', bug="divide by 2"),
    Variant("squared_loss", "sl_mean", '''
def squared_loss(y_hat, y):
    return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()
''', bug="elementwise"),
    Variant("squared_loss", "sl_sum", '''
def squared_loss(y_hat, y):
    return ((y_hat - y.reshape(y_hat.shape)) ** 2).sum() / 2
''', bug="elementwise"),
    Variant("squared_loss", "sl_column_hard_coded", '''
def squared_loss(y_hat, y):
    return (y_hat - y.reshape(-1, 1)) ** 2 / 2
''', bug="reshape y to y_hat's shape"),
    Variant("squared_loss", "sl_reshapes_y_hat", '''
def squared_loss(y_hat, y):
    return (y_hat.reshape(y.shape) - y) ** 2 / 2
''', bug="the result has y_hat's shape"),
    Variant("squared_loss", "sl_uses_mse_loss", '''
def squared_loss(y_hat, y):
    return torch.nn.functional.mse_loss(y_hat, y.reshape(y_hat.shape), reduction="none") / 2
''', bug="no credit"),
    Variant("squared_loss", "sl_view_as_ok", '''
def squared_loss(y_hat, y):
    return 0.5 * (y_hat - y.view_as(y_hat)).pow(2)
'''),
    Variant("squared_loss", "sl_square_ok", '''
def squared_loss(y_hat, y):
    diff = y_hat - torch.reshape(y, y_hat.shape)
    return torch.square(diff) * 0.5
'''),
    # --------------------------------------------------------------------- sgd
    Variant("sgd", "sgd_no_batch_division", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad
            param.grad.zero_()
''', bug="divide by batch_size"),
    Variant("sgd", "sgd_no_zero_grad", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
''', bug="zero each gradient"),
    Variant("sgd", "sgd_rebinds_local_name", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param = param - lr * param.grad / batch_size
            param.grad = None
''', bug="only rebinds a local name"),
    Variant("sgd", "sgd_no_no_grad", '''
def sgd(params, lr, batch_size):
    for param in params:
        param -= lr * param.grad / batch_size
        param.grad.zero_()
''', bug="torch.no_grad()"),
    Variant("sgd", "sgd_zero_before_update", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param.grad.zero_()
            param -= lr * param.grad / batch_size
''', bug="update first, then zero"),
    Variant("sgd", "sgd_returns_early", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
            return
''', bug="update every parameter"),
    Variant("sgd", "sgd_assigns_data", '''
def sgd(params, lr, batch_size):
    for param in params:
        param.data = param.data - lr * param.grad / batch_size
        param.grad.zero_()
''', bug="new memory"),
    Variant("sgd", "sgd_replaces_list_items", '''
def sgd(params, lr, batch_size):
    for i in range(len(params)):
        params[i] = params[i] - lr * params[i].grad / batch_size
''', bug="leaves the caller's w and b unchanged"),
    Variant("sgd", "sgd_turns_requires_grad_off", '''
def sgd(params, lr, batch_size):
    for param in params:
        param.requires_grad_(False)
        param -= lr * param.grad / batch_size
        param.grad.zero_()
''', bug="keep requires_grad=True"),
    Variant("sgd", "sgd_uses_torch_optim", '''
def sgd(params, lr, batch_size):
    optimizer = torch.optim.SGD(params, lr=lr / batch_size)
    optimizer.step()
    optimizer.zero_grad()
''', bug="no credit"),
    Variant("sgd", "sgd_sub_and_none_ok", '''
def sgd(params, lr, batch_size):
    with torch.no_grad():
        for p in params:
            p.sub_(p.grad, alpha=lr / batch_size)
            p.grad = None
'''),
    Variant("sgd", "sgd_data_add_ok", '''
def sgd(params, lr, batch_size):
    for p in params:
        p.data.add_(p.grad.data * (-lr / batch_size))
        p.grad.data.zero_()
'''),
    # ------------------------------------------------------------ train_linreg
    Variant("train_linreg", "tl_mean_and_sgd_divide_twice", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.mean().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="divided twice"),
    Variant("train_linreg", "tl_inline_update_forgets_zero_grad", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            with torch.no_grad():
                w -= lr * w.grad / batch_size
                b -= lr * b.grad / batch_size
    return w, b
''', bug="accumulate"),
    Variant("train_linreg", "tl_w_of_shape_d", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1],), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="w of shape (d, 1)"),
    Variant("train_linreg", "tl_zero_init", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.zeros(features.shape[1], 1, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="initialise w ~ N(0, 0.01²)"),
    Variant("train_linreg", "tl_init_from_global_rng", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="draw only from generator"),
    Variant("train_linreg", "tl_data_iter_without_generator", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="draw only from generator"),
    Variant("train_linreg", "tl_fixed_learning_rate", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], 0.03, batch_size)
    return w, b
''', bug="use the lr argument"),
    Variant("train_linreg", "tl_one_epoch_short", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), generator=generator, dtype=features.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    for epoch in range(1, num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            l = squared_loss(X @ w + b, y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
''', bug="exactly num_epochs passes"),
    Variant("train_linreg", "tl_uses_nn_linear", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    net = nn.Linear(features.shape[1], 1, dtype=features.dtype)
    with torch.no_grad():
        net.weight.copy_(torch.normal(0, 0.01, size=(1, features.shape[1]), generator=generator, dtype=features.dtype))
        net.bias.zero_()
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            squared_loss(net(X), y).sum().backward()
            sgd([net.weight, net.bias], lr, batch_size)
    return net.weight.detach().T.clone(), net.bias.detach().clone()
''', bug="no credit"),
    Variant("train_linreg", "tl_inline_loop_ok", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    d = features.shape[1]
    w = (torch.randn(d, 1, generator=generator, dtype=features.dtype) * 0.01).requires_grad_()
    b = torch.zeros(1, dtype=features.dtype).requires_grad_()
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator=generator):
            loss = ((torch.matmul(X, w) + b - y.reshape(-1, 1)) ** 2 / 2).sum()
            loss.backward()
            with torch.no_grad():
                for p in (w, b):
                    p -= lr * p.grad / batch_size
                    p.grad.zero_()
    return w, b
'''),
    Variant("train_linreg", "tl_linreg_helper_ok", '''
def train_linreg(features, labels, num_epochs=3, lr=0.03, batch_size=10, generator=None):
    def linreg(X, w, b):
        return torch.matmul(X, w) + b

    w = torch.normal(0.0, 0.01, (features.shape[1], 1), generator=generator).to(features.dtype).requires_grad_(True)
    b = torch.zeros(1, dtype=features.dtype, requires_grad=True)
    net, loss = linreg, squared_loss
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels, generator):
            loss(net(X, w, b), y).sum().backward()
            sgd([w, b], lr, batch_size)
    return w.detach(), b.detach()
'''),
    # ----------------------------------------------------------- train_concise
    Variant("train_concise", "tc_returns_sequential", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net
''', bug="not the nn.Sequential"),
    Variant("train_concise", "tc_forgets_zero_grad", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            l.backward()
            trainer.step()
    return net[0]
''', bug="optimizer.zero_grad()"),
    Variant("train_concise", "tc_squared_loss_mean", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = squared_loss(net(X), y).mean()
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="has no 1/2"),
    Variant("train_concise", "tc_summed_loss", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss(reduction="sum")
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="averages over the batch"),
    Variant("train_concise", "tc_l1_loss", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.L1Loss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="loss = nn.MSELoss()"),
    Variant("train_concise", "tc_no_shuffle", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=False)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="shuffle=True"),
    Variant("train_concise", "tc_default_init", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="initialise like train_linreg"),
    Variant("train_concise", "tc_fixed_learning_rate", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    train_iter = DataLoader(TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0]
''', bug="pass the lr argument on"),
    Variant("train_concise", "tc_bare_linear_ok", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    layer = nn.Linear(features.shape[1], 1)
    nn.init.normal_(layer.weight, mean=0.0, std=0.01)
    nn.init.zeros_(layer.bias)
    optimizer = torch.optim.SGD(layer.parameters(), lr)
    mse = nn.MSELoss()
    loader = DataLoader(TensorDataset(features, labels), batch_size=batch_size, shuffle=True)
    for _ in range(num_epochs):
        for X, y in loader:
            mse(layer(X), y).backward()
            optimizer.step()
            optimizer.zero_grad()
    return layer
'''),
    Variant("train_concise", "tc_d2l_with_epoch_loss_ok", '''
def train_concise(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    dataset = TensorDataset(*(features, labels))
    data_iter = DataLoader(dataset, batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f'epoch {epoch + 1}, loss {l:f}')
    return net[0]
'''),
]

VARIANTS += [
    # A robust loss with a huge threshold is the squared error (issue 8, class 2):
    # correct values and gradients, so only the forbidden-call detection can catch them.
    Variant("squared_loss", "sl_via_huber_loss", '''
def squared_loss(y_hat, y):
    return torch.nn.functional.huber_loss(y_hat, y.reshape(y_hat.shape), reduction="none", delta=1e9)
''', bug="no credit"),
    Variant("squared_loss", "sl_via_smooth_l1_loss", '''
def squared_loss(y_hat, y):
    beta = 1e6
    return torch.nn.functional.smooth_l1_loss(y_hat, y.reshape(y_hat.shape), reduction="none", beta=beta) * beta
''', bug="no credit"),
]
