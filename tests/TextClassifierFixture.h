#pragma once

// The text classifier of issue 19's "Why", made in Python with Debian's torch for the tests of
// token inputs: an embedding of 100 ids, a two-layer nn.TransformerEncoder, mean pooling over
// the sequence and a Linear head to 4 classes, scripted and saved as textcls.pt in the folder
// given; it prints Python's outputs for a fixed int64 batch of 3 x 16 ids as JSON
// {"ids": [...], "out": [...]}.

namespace ms::test {

inline constexpr int kTextVocab = 100;
inline constexpr int kTextClasses = 4;
inline constexpr int kTextBatch = 3;
inline constexpr int kTextLength = 16;

inline constexpr char kMakeTextClassifier[] = R"(
import json, sys, torch
out = sys.argv[1]
torch.manual_seed(0)
class TextClassifier(torch.nn.Module):
    def __init__(self, vocab: int = 100, d: int = 32, classes: int = 4):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        layer = torch.nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers=2)
        self.head = torch.nn.Linear(d, classes)
    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)).mean(dim=1))
net = TextClassifier().eval()
torch.jit.script(net).save(out + "/textcls.pt")
g = torch.Generator().manual_seed(1)
x = torch.randint(0, 100, (3, 16), generator=g)
with torch.no_grad():
    y = net(x)
print(json.dumps({"ids": x.flatten().tolist(), "out": y.flatten().tolist()}))
)";

} // namespace ms::test
