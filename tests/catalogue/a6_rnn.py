"""a6_rnn: classic wrong implementations and correct alternatives."""
from tests.catalogue import Variant

_CELL_HEAD = '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
'''

_CLIP_HEAD = '''
def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
'''

_MODEL_INIT = '''
class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes=2):
        super().__init__()
        bound = 1 / math.sqrt(hidden_size)
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.W_ih = nn.Parameter(torch.empty(4 * hidden_size, embed_dim).uniform_(-bound, bound))
        self.W_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-bound, bound))
        self.b_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))
        self.b_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))
        self.head = nn.Linear(hidden_size, num_classes)
'''

VARIANTS = [
    # -------------------------------------------------------------- lstm_cell
    Variant("lstm_cell", "cell_gate_order_ifog", _CELL_HEAD + '''
    i, f, o, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
''', bug="wrong gate order"),
    Variant("lstm_cell", "cell_tanh_sigmoid_swapped", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.tanh(f) * c + torch.tanh(i) * torch.sigmoid(g)
    return torch.tanh(o) * torch.tanh(c), c
''', bug="tanh and sigmoid swapped"),
    Variant("lstm_cell", "cell_forgets_b_hh", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
''', bug="b_hh is missing"),
    Variant("lstm_cell", "cell_h_without_tanh", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c, c
''', bug="h = o * tanh(c)"),
    Variant("lstm_cell", "cell_forget_gate_tanh", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.tanh(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
''', bug="forget gate f should use sigmoid"),
    Variant("lstm_cell", "cell_hard_sigmoid_forget_gate", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    c = F.hardsigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c
''', bug="forget gate f is wrong"),
    Variant("lstm_cell", "cell_h_from_old_cell", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    h = torch.sigmoid(o) * torch.tanh(c)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return h, c
''', bug="new cell state"),
    Variant("lstm_cell", "cell_returns_c_h", _CELL_HEAD + '''
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return c, torch.sigmoid(o) * torch.tanh(c)
''', bug="swapped"),
    Variant("lstm_cell", "cell_uses_torch_lstm_cell", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    return torch.lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)
''', bug="no credit"),
    Variant("lstm_cell", "cell_uses_nn_lstmcell", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    cell = nn.LSTMCell(x.shape[1], h.shape[1], dtype=x.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(W_ih); cell.weight_hh.copy_(W_hh); cell.bias_ih.copy_(b_ih); cell.bias_hh.copy_(b_hh)
    return cell(x, (h, c))
''', bug="no credit"),
    Variant("lstm_cell", "cell_getattr_vf", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    return getattr(torch, "lstm" + "_cell")(x, (h, c), W_ih, W_hh, b_ih, b_hh)
''', bug="no credit"),
    Variant("lstm_cell", "cell_concatenated_ok", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    z = torch.cat([x, h], dim=1) @ torch.cat([W_ih, W_hh], dim=1).T + (b_ih + b_hh)
    i, f = torch.sigmoid(z[:, :H]), torch.sigmoid(z[:, H:2 * H])
    g, o = torch.tanh(z[:, 2 * H:3 * H]), torch.sigmoid(z[:, 3 * H:])
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new
'''),
    Variant("lstm_cell", "cell_manual_activations_ok", '''
def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    def sigmoid(z):
        return 1 / (1 + torch.exp(-z))
    def tanh(z):
        return 2 * sigmoid(2 * z) - 1
    i, f, g, o = torch.split(torch.addmm(b_ih + b_hh, x, W_ih.t()) + h @ W_hh.t(), h.shape[1], dim=1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c
'''),
    # ------------------------------------------------------------------- lstm
    Variant("lstm", "seq_outputs_are_cells", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(c)
    return torch.stack(outputs), (h, c)
''', bug="not the cell state c"),
    Variant("lstm", "seq_outputs_before_step", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        outputs.append(h)
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
    return torch.stack(outputs), (h, c)
''', bug="append h after each step"),
    Variant("lstm", "seq_state_not_carried", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outputs = []
    for x in X:
        h, c = lstm_cell(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), (h, c)
''', bug="carry the state"),
    Variant("lstm", "seq_detaches_state", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h.detach(), c.detach(), W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), (h, c)
''', bug="do not detach"),
    Variant("lstm", "seq_layer_dimension", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), (h.unsqueeze(0), c.unsqueeze(0))
''', bug="leading layer dimension"),
    Variant("lstm", "seq_list_of_outputs", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return outputs, (h, c)
''', bug="torch.stack(outputs)"),
    Variant("lstm", "seq_batch_stacking", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, outputs = h0, c0, []
    for x in X:
        h, c = lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h, c)
''', bug="new first dimension"),
    Variant("lstm", "seq_uses_nn_lstm", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    layer = nn.LSTM(X.shape[2], h0.shape[1], dtype=X.dtype)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(W_ih); layer.weight_hh_l0.copy_(W_hh)
        layer.bias_ih_l0.copy_(b_ih); layer.bias_hh_l0.copy_(b_hh)
    outputs, (h, c) = layer(X, (h0[None], c0[None]))
    return outputs, (h[0], c[0])
''', bug="no credit"),
    Variant("lstm", "seq_vf_lstm", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    outputs, h, c = torch._VF.lstm(X, (h0[None], c0[None]), [W_ih, W_hh, b_ih, b_hh], True, 1, 0.0, False, False, False)
    return outputs, (h[0], c[0])
''', bug="no credit"),
    Variant("lstm", "seq_preallocated_ok", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    T, N = X.shape[0], X.shape[1]
    outputs = X.new_zeros(T, N, h0.shape[1])
    h, c = h0, c0
    for t in range(T):
        h, c = lstm_cell(X[t], h, c, W_ih, W_hh, b_ih, b_hh)
        outputs[t] = h
    return outputs, (h, c)
'''),
    Variant("lstm", "seq_unbind_ok", '''
def lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh):
    state = (h0, c0)
    hs = []
    for x in X.unbind(0):
        state = lstm_cell(x, *state, W_ih, W_hh, b_ih, b_hh)
        hs.append(state[0])
    return torch.stack(hs, dim=0), tuple(state)
'''),
    # --------------------------------------------------------- clip_grad_norm
    Variant("clip_grad_norm", "clip_per_parameter", '''
def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    norms = []
    for p in parameters:
        if p.grad is None:
            continue
        norm = p.grad.norm()
        norms.append(norm)
        if norm > max_norm:
            p.grad.mul_(max_norm / (norm + 1e-6))
    return torch.sqrt(sum(n ** 2 for n in norms)) if norms else torch.tensor(0.0)
''', bug="global norm"),
    Variant("clip_grad_norm", "clip_generator_consumed_twice", '''
def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    squares = [(p.grad ** 2).sum() for p in parameters if p.grad is not None]
    if not squares:
        return torch.tensor(0.0)
    norm = torch.sqrt(sum(squares))
    if norm > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / (norm + 1e-6))
    return norm
''', bug="a generator can be iterated only once"),
    Variant("clip_grad_norm", "clip_returns_norm_after", _CLIP_HEAD + '''
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / (norm + 1e-6))
        norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    return norm
''', bug="before clipping"),
    Variant("clip_grad_norm", "clip_always_scales", _CLIP_HEAD + '''
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    for g in grads:
        g.mul_(max_norm / (norm + 1e-6))
    return norm
''', bug="scale only when the norm exceeds max_norm"),
    Variant("clip_grad_norm", "clip_no_square_root", _CLIP_HEAD + '''
    norm = sum((g ** 2).sum() for g in grads)
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / (norm + 1e-6))
    return norm
''', bug="square root"),
    Variant("clip_grad_norm", "clip_does_not_skip_none", '''
def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in parameters))
    if norm > max_norm:
        for p in parameters:
            p.grad.mul_(max_norm / (norm + 1e-6))
    return norm
''', bug="skip parameters whose .grad is None"),
    Variant("clip_grad_norm", "clip_replaces_grad", _CLIP_HEAD + '''
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if norm > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad = p.grad * (max_norm / (norm + 1e-6))
    return norm
''', bug="in place"),
    Variant("clip_grad_norm", "clip_returns_float", _CLIP_HEAD + '''
    norm = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / (norm + 1e-6))
    return norm
''', bug="0-dimensional tensor"),
    Variant("clip_grad_norm", "clip_uses_torch", '''
def clip_grad_norm(parameters, max_norm):
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm)
''', bug="no credit"),
    Variant("clip_grad_norm", "clip_imported_early", '''
from torch.nn.utils import clip_grad_norm_ as _clip

def clip_grad_norm(parameters, max_norm):
    return _clip(parameters, max_norm)
''', bug="no credit"),
    Variant("clip_grad_norm", "clip_vector_norms_ok", '''
def clip_grad_norm(parameters, max_norm):
    params = [parameters] if torch.is_tensor(parameters) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if len(grads) == 0:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    with torch.no_grad():
        for g in grads:
            g.mul_(factor)
    return total
'''),
    Variant("clip_grad_norm", "clip_flatten_ok", _CLIP_HEAD + '''
    norm = torch.cat([g.reshape(-1) for g in grads]).norm()
    if norm.item() > max_norm:
        for g in grads:
            g *= max_norm / (norm + 1e-6)
    return norm
'''),
    # ----------------------------------------------------------- bag_of_words
    Variant("bag_of_words", "bow_presence", '''
def bag_of_words(token_ids, vocab_size):
    X = torch.zeros(len(token_ids), vocab_size)
    for row, ids in enumerate(token_ids):
        X[row, ids] = 1.0
    return X
''', bug="count every occurrence"),
    Variant("bag_of_words", "bow_integer_counts", '''
def bag_of_words(token_ids, vocab_size):
    X = torch.zeros(len(token_ids), vocab_size, dtype=torch.int64)
    for row, ids in enumerate(token_ids):
        for token in ids:
            X[row, token] += 1
    return X
''', bug="float32"),
    Variant("bag_of_words", "bow_ids_from_one", '''
def bag_of_words(token_ids, vocab_size):
    X = torch.zeros(len(token_ids), vocab_size)
    for row, ids in enumerate(token_ids):
        for token in ids:
            X[row, token - 1] += 1
    return X
''', bug="column j counts token id j"),
    Variant("bag_of_words", "bow_one_hot_sum", '''
def bag_of_words(token_ids, vocab_size):
    return torch.stack([F.one_hot(torch.tensor(ids), vocab_size).sum(dim=0) for ids in token_ids]).float()
''', bug="empty sentence"),
    Variant("bag_of_words", "bow_frequencies", '''
def bag_of_words(token_ids, vocab_size):
    X = torch.zeros(len(token_ids), vocab_size)
    for row, ids in enumerate(token_ids):
        for token in ids:
            X[row, token] += 1 / len(ids)
    return X
''', bug="not frequencies"),
    Variant("bag_of_words", "bow_bincount_ok", '''
def bag_of_words(token_ids, vocab_size):
    rows = [torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=vocab_size) for ids in token_ids]
    return torch.stack(rows).to(torch.float32) if rows else torch.zeros(0, vocab_size)
'''),
    Variant("bag_of_words", "bow_index_put_ok", '''
def bag_of_words(token_ids, vocab_size):
    rows = torch.tensor([r for r, ids in enumerate(token_ids) for _ in ids], dtype=torch.long)
    cols = torch.tensor([t for ids in token_ids for t in ids], dtype=torch.long)
    X = torch.zeros(len(token_ids), vocab_size)
    return X.index_put_((rows, cols), torch.ones(len(cols)), accumulate=True)
'''),
    # ---------------------------------------------------------- SentimentLSTM
    Variant("SentimentLSTM", "model_last_padded_step", _MODEL_INIT + '''
    def forward(self, tokens, lengths):
        X = self.embedding(tokens).transpose(0, 1)
        zeros = X.new_zeros(tokens.shape[0], self.hidden_size)
        outputs, _ = lstm(X, zeros, zeros, self.W_ih, self.W_hh, self.b_ih, self.b_hh)
        return self.head(outputs[-1])
''', bug="last real token"),
    Variant("SentimentLSTM", "model_mean_over_time", _MODEL_INIT + '''
    def forward(self, tokens, lengths):
        X = self.embedding(tokens).transpose(0, 1)
        zeros = X.new_zeros(tokens.shape[0], self.hidden_size)
        outputs, _ = lstm(X, zeros, zeros, self.W_ih, self.W_hh, self.b_ih, self.b_hh)
        return self.head(outputs.mean(dim=0))
''', bug="last real token"),
    Variant("SentimentLSTM", "model_batch_first", _MODEL_INIT + '''
    def forward(self, tokens, lengths):
        X = self.embedding(tokens)
        zeros = X.new_zeros(X.shape[1], self.hidden_size)
        outputs, _ = lstm(X, zeros, zeros, self.W_ih, self.W_hh, self.b_ih, self.b_hh)
        return self.head(outputs[torch.arange(tokens.shape[0]), lengths - 1])
''', bug="sequence-first"),
    Variant("SentimentLSTM", "model_uses_nn_lstm", '''
class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.LSTM(embed_dim, hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, tokens, lengths):
        outputs, _ = self.rnn(self.embedding(tokens).transpose(0, 1))
        return self.head(outputs[lengths - 1, torch.arange(tokens.shape[0])])
''', bug="no credit"),
    Variant("SentimentLSTM", "model_gather_ok", '''
class SentimentLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size, num_classes=2):
        super().__init__()
        k = hidden_size ** -0.5
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.weights = nn.ParameterList([nn.Parameter(torch.empty(*shape).uniform_(-k, k)) for shape in
                                         [(4 * hidden_size, embed_dim), (4 * hidden_size, hidden_size),
                                          (4 * hidden_size,), (4 * hidden_size,)]])
        self.lstm_size = hidden_size
        self.out = nn.Linear(hidden_size, num_classes)

    def forward(self, tokens, lengths):
        X = self.embed(tokens).permute(1, 0, 2)
        h0 = torch.zeros(tokens.shape[0], self.lstm_size)
        outputs, _ = lstm(X, h0, h0.clone(), *self.weights)
        index = (lengths - 1).view(1, -1, 1).expand(1, -1, self.lstm_size)
        return self.out(outputs.gather(0, index).squeeze(0))
'''),
]
