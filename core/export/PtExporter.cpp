#include "export/PtExporter.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/ShapeText.h"
#include "export/ExportSupport.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

namespace ms {

QString PtExporter::description() const
{
    return QStringLiteral("TorchScript file for torch.jit.load, with a README snippet: --to FILE "
                          "or a folder");
}

namespace {

// A language model (train --task lm): token ids in, logits per position out.
bool isLanguageModel(const VersionRecord &v)
{
    return v.recipe.value(QStringLiteral("task")).toString() == QLatin1String("lm")
           || (!v.inputs.isEmpty() && v.inputs.first().dtype == QLatin1String("int64")
               && !v.outputs.isEmpty() && v.outputs.first().shape.size() == 3);
}

QString languageModelSnippet(const QString &fileName)
{
    return QStringLiteral(
               "\nA language model: it takes token ids (int64, shape (N, T), T up to "
               "`model.block_size`) of the tokenizer named in `model.tokenizer_json` (\"byte\": "
               "the UTF-8 bytes) and returns logits for every position; `model.step(idx, cache)` "
               "returns the last position's logits and a key/value cache for the next call "
               "(ModelStudio's docs/language-models.md).\n\n```python\nimport torch\n\n"
               "model = torch.jit.load(%1)\nmodel.eval()\n"
               "idx = torch.tensor([list(\"Q: \".encode())])  # byte tokens, (1, T)\n"
               "cache = []\nwith torch.no_grad():  # greedy, with the cache, within the context\n"
               "    for i in range(min(40, model.block_size - idx.size(1))):\n"
               "        logits, cache = model.step(idx if i == 0 else idx[:, -1:], cache)\n"
               "        idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], 1)\n"
               "print(bytes(idx[0].tolist()).decode(\"utf-8\", errors=\"replace\"))\n```\n")
        .arg(QString::fromUtf8(exportsupport::pythonString(fileName)));
}

} // namespace

QByteArray PtExporter::readmeText(const VersionRecord &v, const QString &fileName)
{
    QString text;
    // Text of the version is shown as code spans (common/Names.h limits a name, but a record
    // from elsewhere, a tensor's name, a class name may hold anything) and as Python string
    // literals inside the snippet: nothing of it can become Markdown or Python of its own.
    text += QStringLiteral("# %1: a TorchScript model\n\n")
                .arg(exportsupport::markdownCode(v.ref()));
    text += QStringLiteral("Exported by ModelStudio %1 on %2. Kind: %3; %4 parameters; "
                           "SHA-256 %5.\n\n")
                .arg(QStringLiteral(MODELSTUDIO_VERSION),
                     QDateTime::currentDateTimeUtc().toString(Qt::ISODate),
                     versionKindName(v.kind), QString::number(v.parameterCount),
                     exportsupport::markdownCode(v.sha256));
    if (!v.metrics.isEmpty() && v.metrics.contains(QStringLiteral("test_acc")))
        text += QStringLiteral("Test accuracy when it was recorded: %1.\n\n")
                    .arg(v.metrics.value(QStringLiteral("test_acc")).toDouble(), 0, 'f', 4);
    // A language model's second dimension is the sequence length, written T as the snippet
    // below writes it ("N, N" would read as two batch dimensions).
    const bool lm = isLanguageModel(v);
    auto shape = [lm](const std::vector<qint64> &dims) {
        QString text = shapeText(dims, ShapeStyle::Arguments);
        if (lm && dims.size() > 1 && dims[0] < 0 && dims[1] < 0)
            text.replace(0, 4, QStringLiteral("N, T"));
        return text;
    };
    for (const TensorSignature &t : v.inputs)
        text += QStringLiteral("- input %1: %2 of shape (%3)\n")
                    .arg(exportsupport::markdownCode(t.name), exportsupport::markdownCode(t.dtype),
                         shape(t.shape));
    for (const TensorSignature &t : v.outputs)
        text += QStringLiteral("- output %1: %2 of shape (%3)\n")
                    .arg(exportsupport::markdownCode(t.name), exportsupport::markdownCode(t.dtype),
                         shape(t.shape));
    if (lm) {
        text += languageModelSnippet(fileName);
        return text.toUtf8();
    }
    text += QLatin1Char('\n') + exportsupport::inputContract(v).sentence;
    if (!v.classNames.isEmpty())
        text += QStringLiteral(" It returns one score per class, in the order of "
                               "`class_names` below.");
    text += QStringLiteral("\n\n```python\nimport torch\n\n");
    text += QStringLiteral("model = torch.jit.load(%1)\nmodel.eval()\n")
                .arg(QString::fromUtf8(exportsupport::pythonString(fileName)));
    if (!v.classNames.isEmpty())
        text += QStringLiteral("class_names = %1\n")
                    .arg(QString::fromUtf8(exportsupport::pythonStringList(v.classNames)));
    if (!v.inputs.isEmpty() && !v.inputs.first().shape.empty()) {
        std::vector<qint64> shape = v.inputs.first().shape;
        if (shape.front() == -1)
            shape.front() = 8;   // any batch size: an example one
        text += QStringLiteral("x = torch.rand(%1)  # a batch of %2\n")
                    .arg(shapeText(shape, ShapeStyle::Arguments), QString::number(shape.front()));
        text += QStringLiteral("with torch.no_grad():\n    scores = model(x)\n");
        if (!v.classNames.isEmpty())
            text += QStringLiteral("print([class_names[i] for i in "
                                   "scores.argmax(dim=1).tolist()])\n");
        else
            text += QStringLiteral("print(scores.argmax(dim=1).tolist())\n");
    } else {
        text += QStringLiteral("# The version records no input shape: give the model a batch "
                               "of the shape it was written for.\n");
    }
    text += QStringLiteral("```\n");
    return text.toUtf8();
}

QStringList PtExporter::write(const ExportInput &input, const QString &to) const
{
    const VersionRecord &v = input.version;
    exportsupport::checkExportable(v);
    QString target = to;
    if (QFileInfo(to).isDir() || to.endsWith(QLatin1Char('/')))
        target = pathInside(to, exportsupport::fileStem(v) + QStringLiteral(".pt"));
    target = QFileInfo(target).absoluteFilePath();
    if (QFileInfo(target).isDir())
        throw Error(QStringLiteral("%1 is a folder: give a file name or a folder to write "
                                   "%2.pt into.").arg(target, exportsupport::fileStem(v)));
    const QFileInfo targetInfo(target);
    const QString readme = pathInside(targetInfo.absolutePath(),
                                      targetInfo.completeBaseName()
                                          + QStringLiteral(".README.md"));
    // As the other formats do, an export never replaces a file unasked: either one may be
    // another model, or notes a person wrote beside it.
    if (!exportsupport::forced(input)) {
        QStringList existing;
        for (const QString &path : {target, readme}) {
            if (QFileInfo::exists(path))
                existing << QDir::toNativeSeparators(path);
        }
        if (!existing.isEmpty())
            throw Error(QStringLiteral("%1 already exist%2: pass --force to replace %3, or "
                                       "choose another --to; nothing was written.")
                            .arg(existing.join(QStringLiteral(" and ")),
                                 existing.size() == 1 ? QStringLiteral("s") : QString(),
                                 existing.size() == 1 ? QStringLiteral("it")
                                                      : QStringLiteral("them")));
    }
    if (QFileInfo(readme).isDir())
        throw Error(QStringLiteral("%1 is a folder: the README cannot be written there; "
                                   "nothing was written.").arg(QDir::toNativeSeparators(readme)));
    exportsupport::makePath(targetInfo.absolutePath());
    const QByteArray readmeBytes = readmeText(v, targetInfo.fileName());
    // The model first: a README without its model would point at nothing.
    exportsupport::copyArtifact(input, target);
    exportsupport::writeFile(readme, readmeBytes);
    return {target, readme};
}

} // namespace ms
