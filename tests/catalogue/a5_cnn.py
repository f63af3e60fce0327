"""a5_cnn: classic wrong implementations and correct alternatives.

Answer cells run after the setup cell, which imports torch, F, nn, math and
defines pair(). The LeNet threshold is filed under conv2d, so every conv2d
variant below is also trained (except those the source scan rejects): the
too-slow per-example conv2d is the variant that loses only that test.
"""
from tests.catalogue import Variant

VARIANTS = [
    # ----------------------------------------------------------------- corr2d
    Variant("corr2d", "corr2d_flipped_kernel", '''
def corr2d(X, K):
    K = K.flip(0, 1)
    kh, kw = K.shape
    oh, ow = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    Y = X.new_zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + K[i, j] * X[i:i + oh, j:j + ow]
    return Y
''', bug="is not flipped"),
    Variant("corr2d", "corr2d_no_plus_one", '''
def corr2d(X, K):
    kh, kw = K.shape
    oh, ow = X.shape[0] - kh, X.shape[1] - kw
    Y = X.new_zeros((oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + K[i, j] * X[i:i + oh, j:j + ow]
    return Y
''', bug="(h - kh + 1, w - kw + 1)"),
    Variant("corr2d", "corr2d_d2l_float32_zeros", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''', bug="keep the input's dtype"),
    Variant("corr2d", "corr2d_item_breaks_gradient", '''
def corr2d(X, K):
    h, w = K.shape
    Y = X.new_zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum().item()
    return Y
''', bug="differentiable"),
    Variant("corr2d", "corr2d_rows_and_columns_swapped", '''
def corr2d(X, K):
    kh, kw = K.shape
    Y = X.new_zeros((X.shape[0] - kw + 1, X.shape[1] - kh + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + kw, j:j + kh] * K.T).sum()
    return Y
''', bug="kh rows slide down the height"),
    Variant("corr2d", "corr2d_uses_F_conv2d", '''
def corr2d(X, K):
    return F.conv2d(X[None, None], K[None, None])[0, 0]
''', bug="no credit"),
    Variant("corr2d", "corr2d_uses_F_unfold", '''
def corr2d(X, K):
    kh, kw = K.shape
    columns = F.unfold(X[None, None], (kh, kw))  # (1, kh*kw, L)
    return (K.reshape(1, -1) @ columns[0]).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)
''', bug="no credit"),
    Variant("corr2d", "corr2d_d2l_loops_ok", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''),
    Variant("corr2d", "corr2d_tensor_unfold_ok", '''
def corr2d(X, K):
    kh, kw = K.shape
    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))
'''),
    # ----------------------------------------------------------------- conv2d
    Variant("conv2d", "conv2d_flipped_kernel", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    weight = weight.flip(-2, -1)
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="is not flipped"),
    Variant("conv2d", "conv2d_forgets_plus_one", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh, (X.shape[3] - kw) // sw
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="// s_h + 1"),
    Variant("conv2d", "conv2d_pairs_swapped", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sw, sh), (pw, ph) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="(rows, columns)"),
    Variant("conv2d", "conv2d_first_number_of_pairs_only", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    s = stride if isinstance(stride, int) else stride[0]
    p = padding if isinstance(padding, int) else padding[0]
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (p, p, p, p))
    oh, ow = (X.shape[2] - kh) // s + 1, (X.shape[3] - kw) // s + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s], weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="(rows, columns)"),
    Variant("conv2d", "conv2d_padding_one_side", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (0, 2 * pw, 0, 2 * ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="padding"),
    Variant("conv2d", "conv2d_bias_on_the_width", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            Y = Y + torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
    return Y if bias is None else Y + bias
''', bug="bias.reshape(1, -1, 1, 1)"),
    Variant("conv2d", "conv2d_output_detached", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    with torch.no_grad():
        for i in range(kh):
            for j in range(kw):
                Y += torch.einsum("nchw,oc->nohw", X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw], weight[:, :, i, j])
        if bias is not None:
            Y += bias.reshape(1, -1, 1, 1)
    return Y
''', bug="differentiable"),
    Variant("conv2d", "conv2d_uses_F_conv2d", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    return F.conv2d(X, weight, bias, stride=stride, padding=padding)
''', bug="no credit"),
    Variant("conv2d", "conv2d_uses_private_im2col", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    c_out, c_in, kh, kw = weight.shape
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    columns = torch._C._nn.im2col(X, (kh, kw), (1, 1), (ph, pw), (sh, sw))
    oh, ow = (X.shape[2] + 2 * ph - kh) // sh + 1, (X.shape[3] + 2 * pw - kw) // sw + 1
    Y = (weight.reshape(c_out, -1) @ columns).reshape(X.shape[0], c_out, oh, ow)
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="no credit"),
    Variant("conv2d", "conv2d_uses_F_unfold_at_run_time", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    c_out, c_in, kh, kw = weight.shape
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    columns = F.unfold(X, (kh, kw), padding=(ph, pw), stride=(sh, sw))
    oh, ow = (X.shape[2] + 2 * ph - kh) // sh + 1, (X.shape[3] + 2 * pw - kw) // sw + 1
    Y = (weight.reshape(c_out, -1) @ columns).reshape(X.shape[0], c_out, oh, ow)
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
''', bug="no credit"),
    Variant("conv2d", "conv2d_aten_convolution", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    return torch.ops.aten.convolution(X, weight, bias, list(pair(stride)), list(pair(padding)), [1, 1], False, [0, 0], 1)
''', bug="no credit"),
    Variant("conv2d", "conv2d_loop_per_example_too_slow", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    # d2l's corr2d for every example, output channel and input channel: correct, and far too slow to train with
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    examples = []
    for n in range(X.shape[0]):
        channels = []
        for o in range(c_out):
            Y = X.new_zeros((oh, ow))
            for c in range(c_in):
                for r in range(oh):
                    for q in range(ow):
                        Y[r, q] = Y[r, q] + (X[n, c, r * sh:r * sh + kh, q * sw:q * sw + kw] * weight[o, c]).sum()
            channels.append(Y if bias is None else Y + bias[o])
        examples.append(torch.stack(channels))
    return torch.stack(examples)
''', bug="ran out of time"),
    Variant("conv2d", "conv2d_loop_over_output_positions_ok", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    rows = []
    for r in range(oh):
        row = [torch.einsum("ncij,ocij->no", X[:, :, r * sh:r * sh + kh, q * sw:q * sw + kw], weight) for q in range(ow)]
        rows.append(torch.stack(row, dim=-1))
    Y = torch.stack(rows, dim=-2)
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
'''),
    Variant("conv2d", "conv2d_tensor_unfold_einsum_ok", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    windows = F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, oh, ow, kh, kw)
    Y = torch.einsum("nchwij,ocij->nohw", windows, weight)
    return Y if bias is None else Y + bias[None, :, None, None]
'''),
    Variant("conv2d", "conv2d_as_strided_tensordot_ok", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    c_out, c_in, kh, kw = weight.shape
    X = F.pad(X, (pw, pw, ph, ph)).contiguous()
    N, C, H, W = X.shape
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    sN, sC, sH, sW = X.stride()
    windows = X.as_strided((N, C, oh, ow, kh, kw), (sN, sC, sH * sh, sW * sw, sH, sW))
    Y = torch.tensordot(windows, weight, dims=([1, 4, 5], [1, 2, 3])).permute(0, 3, 1, 2)
    return Y if bias is None else Y + bias.view(1, -1, 1, 1)
'''),
    # ------------------------------------------------------------- max_pool2d
    Variant("max_pool2d", "max_pool_zero_padding", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph))
    windows = X.unfold(2, kh, sh).unfold(3, kw, sw)
    return windows.reshape(*windows.shape[:4], kh * kw).max(dim=-1).values
''', bug="pad with -inf"),
    Variant("max_pool2d", "max_pool_default_stride_one", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(1 if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=float("-inf"))
    windows = X.unfold(2, kh, sh).unfold(3, kw, sw)
    return windows.reshape(*windows.shape[:4], kh * kw).max(dim=-1).values
''', bug="defaults to kernel_size"),
    Variant("max_pool2d", "max_pool_amax_splits_ties", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=float("-inf"))
    return X.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
''', bug="whole gradient to the first"),
    Variant("max_pool2d", "max_pool_maximum_splits_ties", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=float("-inf"))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    best = None
    for i in range(kh):
        for j in range(kw):
            window = X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            best = window if best is None else torch.maximum(best, window)
    return best
''', bug="whole gradient to the first"),
    Variant("max_pool2d", "max_pool_int_arguments_only", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    k, p = kernel_size, padding
    s = k if stride is None else stride
    X = F.pad(X, (p, p, p, p), value=float("-inf"))
    return X.unfold(2, k, s).unfold(3, k, s).reshape(*X.shape[:2], (X.shape[2] - k) // s + 1, -1, k * k).max(dim=-1).values
''', bug="ints or pairs"),
    Variant("max_pool2d", "max_pool_window_transposed", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kw, kh), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=float("-inf"))
    windows = X.unfold(2, kh, sh).unfold(3, kw, sw)
    return windows.reshape(*windows.shape[:4], kh * kw).max(dim=-1).values
''', bug="(rows, columns)"),
    Variant("max_pool2d", "max_pool_uses_F", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    return F.max_pool2d(X, kernel_size, stride, padding)
''', bug="no credit"),
    Variant("max_pool2d", "max_pool_with_indices_private", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    return torch._C._nn.max_pool2d_with_indices(X, k, s, pair(padding))[0]
''', bug="no credit"),
    Variant("max_pool2d", "max_pool_offsets_where_ok", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=float("-inf"))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    best = None
    for i in range(kh):
        for j in range(kw):
            window = X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            best = window if best is None else torch.where(window > best, window, best)  # ties keep the first
    return best
'''),
    Variant("max_pool2d", "max_pool_as_strided_ok", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph), value=-math.inf).contiguous()
    N, C, H, W = X.shape
    oh, ow = (H - kh) // sh + 1, (W - kw) // sw + 1
    sN, sC, sH, sW = X.stride()
    windows = X.as_strided((N, C, oh, ow, kh, kw), (sN, sC, sH * sh, sW * sw, sH, sW)).reshape(N, C, oh, ow, kh * kw)
    return windows.max(dim=-1)[0]
'''),
    # ------------------------------------------------------------- avg_pool2d
    Variant("avg_pool2d", "avg_pool_padding_not_counted", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    total = F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw).sum(dim=(-2, -1))
    ones = F.pad(torch.ones_like(X), (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw).sum(dim=(-2, -1))
    return total / ones
''', bug="counts the zero padding"),
    Variant("avg_pool2d", "avg_pool_sum", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    return F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw).sum(dim=(-2, -1))
''', bug="average over the window"),
    Variant("avg_pool2d", "avg_pool_default_stride_one", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(stride or 1)
    return F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))
''', bug="defaults to kernel_size"),
    Variant("avg_pool2d", "avg_pool_ignores_padding", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw) = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    return X.unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))
''', bug="pad both sides"),
    Variant("avg_pool2d", "avg_pool_padding_pair_swapped", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (pw, ph) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    return F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw).mean(dim=(-2, -1))
''', bug="(rows, columns)"),
    Variant("avg_pool2d", "avg_pool_uses_F", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    return F.avg_pool2d(X, kernel_size, stride, padding)
''', bug="no credit"),
    Variant("avg_pool2d", "avg_pool_private_nn", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    k = pair(kernel_size)
    return torch._C._nn.avg_pool2d(X, k, k if stride is None else pair(stride), pair(padding))
''', bug="no credit"),
    Variant("avg_pool2d", "avg_pool_offsets_ok", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    X = F.pad(X, (pw, pw, ph, ph))
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    total = 0
    for i in range(kh):
        for j in range(kw):
            total = total + X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    return total / (kh * kw)
'''),
    # ----------------------------------------------------------------- Conv2d
    Variant("Conv2d", "Conv2d_plain_tensors", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = (torch.rand(out_channels, in_channels, kh, kw) * 2 - 1).mul(bound).requires_grad_()
        self.bias = (torch.rand(out_channels) * 2 - 1).mul(bound).requires_grad_() if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="nn.Parameter"),
    Variant("Conv2d", "Conv2d_weight_in_out_order", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels, kh, kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight.transpose(0, 1), self.bias, self.stride, self.padding)
''', bug="(out_channels, in_channels, kh, kw)"),
    Variant("Conv2d", "Conv2d_bias_always", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kh, kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="with bias=False it should have none"),
    Variant("Conv2d", "Conv2d_randn_init", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kh, kw))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="fan-in"),
    Variant("Conv2d", "Conv2d_d2l_rand_init", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.rand(out_channels, in_channels, kh, kw) / math.sqrt(in_channels * kh * kw))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="not centred on 0"),
    Variant("Conv2d", "Conv2d_zero_init", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, kh, kw))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="initialise the weights randomly"),
    Variant("Conv2d", "Conv2d_stride_not_forwarded", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kh, kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, padding=self.padding)
''', bug="stride and padding on to conv2d"),
    Variant("Conv2d", "Conv2d_own_convolution", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.stride, self.padding = pair(stride), pair(padding)
        bound = 1 / math.sqrt(in_channels * kh * kw)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kh, kw).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, X):
        (sh, sw), (ph, pw) = self.stride, self.padding
        kh, kw = self.weight.shape[2:]
        windows = F.pad(X, (pw, pw, ph, ph)).unfold(2, kh, sh).unfold(3, kw, sw)
        Y = torch.einsum("nchwij,ocij->nohw", windows, self.weight)
        return Y if self.bias is None else Y + self.bias.reshape(1, -1, 1, 1)
''', bug="call your conv2d"),
    Variant("Conv2d", "Conv2d_square_kernels_only", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.stride, self.padding = stride, padding
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="int or a pair"),
    Variant("Conv2d", "Conv2d_subclass_of_nn_Conv2d", '''
class Conv2d(nn.Conv2d):
    def forward(self, X):
        return conv2d(X, self.weight, self.bias, self.stride, self.padding)
''', bug="no credit"),
    Variant("Conv2d", "Conv2d_kaiming_init_register_none_ok", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *pair(kernel_size)))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_channels))
        else:
            self.register_parameter("bias", None)

    def forward(self, X):
        return conv2d(X, self.weight, bias=self.bias, stride=self.stride, padding=self.padding)
'''),
    Variant("Conv2d", "Conv2d_xavier_init_ok", '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        kh, kw = pair(kernel_size)
        self.conv_args = dict(stride=stride, padding=padding)
        self.weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(out_channels, in_channels, kh, kw)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, X):
        return conv2d(X, self.weight, self.bias, **self.conv_args)
'''),
    # ----------------------------------------------------------- ImageDataset
    Variant("ImageDataset", "dataset_transform_once_in_init", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images = [transform(image) for image in images] if transform is not None else images
        self.labels = labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], int(self.labels[index])
''', bug="every time an example is read"),
    Variant("ImageDataset", "dataset_transform_on_the_pair", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        example = (self.images[index], int(self.labels[index]))
        return self.transform(example) if self.transform is not None else example
''', bug="on the image alone"),
    Variant("ImageDataset", "dataset_float_labels", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.transform = images, transform
        self.labels = torch.as_tensor(labels, dtype=torch.float32)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]
''', bug="as an integer"),
    Variant("ImageDataset", "dataset_len_of_one_image", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images[0])

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
''', bug="number of examples"),
    Variant("ImageDataset", "dataset_rejects_negative_indices", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        if not 0 <= index < len(self.images):
            raise IndexError(f"index {index} out of range")
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
''', bug="negative indices"),
    Variant("ImageDataset", "dataset_wraps_around", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        index = index % len(self.images)
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
''', bug="expected IndexError"),
    Variant("ImageDataset", "dataset_always_calls_transform", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.transform(self.images[index]), int(self.labels[index])
''', bug="transform may be None"),
    Variant("ImageDataset", "dataset_returns_a_dict", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return {"image": image, "label": int(self.labels[index])}
''', bug="a pair (image, label)"),
    Variant("ImageDataset", "dataset_stacked_tensors_ok", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images = images if torch.is_tensor(images) else torch.stack(list(images))
        self.labels = torch.as_tensor(labels, dtype=torch.int64)
        self.transform = transform

    def __len__(self):
        return self.labels.shape[0]

    def __getitem__(self, index):
        image = self.images[index]
        return (image if self.transform is None else self.transform(image)), self.labels[index]
'''),
    Variant("ImageDataset", "dataset_list_of_pairs_ok", '''
class ImageDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.examples = [(image, int(label)) for image, label in zip(images, labels)]
        self.transform = transform or (lambda image: image)

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, index):
        image, label = self.examples[index]
        return self.transform(image), label
'''),
]
