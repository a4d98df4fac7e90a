#pragma once

#include <QString>
#include <QStringList>

#include <vector>

namespace ms::ui {

// The Serve panel's ready-made request: one real sample for a served model and the curl
// command that sends it as an Open Inference Protocol v2 infer request.
struct ServeSample
{
    std::vector<qint64> shape;    // per sample (no batch dimension)
    std::vector<float> values;    // row-major, product(shape) values
    QString description;          // "a Fashion-MNIST test image (Ankle boot)", or "zeros"
    QString datatype = QStringLiteral("FP32");   // "INT64"/"INT32" for a model of token ids
    // Text for a model that carries its tokenizer: sent as a v2 BYTES input named "text",
    // shape [N], which the server tokenizes (`shape` and `values` are then unused).
    QStringList texts;
};

// A Fashion-MNIST test image (read once, then cached) when `shape` is 1x28x28 and the dataset
// is installed; zeros of `shape` otherwise.
// `dtype`: the served model's input dtype ("float32", "int64", "int32"); token ids are zeros
// (an id every vocabulary holds) sent as INT64/INT32.
ServeSample sampleFor(const std::vector<qint64> &shape,
                      const QString &dtype = QStringLiteral("float32"));
// A text for a model that carries its tokenizer (a gpt or text classifier the studio trained):
// a prompt for a language model (`task` "lm"), a sentence to classify otherwise.
ServeSample textSampleFor(const QString &task, const QString &tokenizer);

struct CurlRequest
{
    QString url;          // "http://127.0.0.1:8765"
    QString modelName;
    QString inputName = QStringLiteral("input");
    QString token;        // empty: no Authorization header
    // What the model does to the input itself (the recorded preprocessing), one comment line
    // under the title; empty: none.
    QString inputNote;
};

// Past this many values a request body goes to a file (curl -d @FILE): spelled out on the
// command line a 3x224x224 sample (150,528 values) is over the kernel's limit for one
// argument ("Argument list too long").
constexpr qint64 kInlineSampleValues = 4096;

// The v2 infer request body for one sample: {"inputs": [{"name", "shape", "datatype", "data"}]}
// (a text sample: {"name": "text", "shape": [N], "datatype": "BYTES", "data": [texts]}).
QByteArray requestBody(const QString &inputName, const ServeSample &sample);

// A multi-line shell command (single-quoted JSON, so it pastes into sh, bash and zsh). With
// `bodyFile` (a file holding requestBody()), the command sends it with -d @FILE instead.
QString curlCommand(const CurlRequest &request, const ServeSample &sample,
                    const QString &bodyFile = QString());

} // namespace ms::ui
