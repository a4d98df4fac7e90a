#include "InferProtocol.h"

#include "common/ShapeText.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

namespace ms::protocol {

namespace {

// Shapes in messages to clients read as the request writes them: "[-1, 1, 28, 28]".
constexpr ShapeStyle kShape = ShapeStyle::List;

enum class DataType { FP32, FP64, INT64, INT32, UINT8 };

bool dataTypeFromName(const QString &name, DataType &type)
{
    static const QList<QPair<QString, DataType>> kTypes = {
        {QStringLiteral("FP32"), DataType::FP32},   {QStringLiteral("FP64"), DataType::FP64},
        {QStringLiteral("INT64"), DataType::INT64}, {QStringLiteral("INT32"), DataType::INT32},
        {QStringLiteral("UINT8"), DataType::UINT8}};
    for (const auto &entry : kTypes) {
        if (entry.first == name) {
            type = entry.second;
            return true;
        }
    }
    return false;
}

[[noreturn]] void fail(const QString &message, int status = 400)
{
    throw ProtocolError{status, message};
}

// Where the numbers of the data go: floats for a float model, token ids (`ints`, set) for a
// model of integer input, which take only integer datatypes.
struct Values
{
    std::vector<float> *floats = nullptr;
    std::vector<qint64> *ints = nullptr;
    size_t size() const { return ints ? ints->size() : floats->size(); }
};

bool isIntegerType(DataType type)
{
    return type == DataType::INT64 || type == DataType::INT32 || type == DataType::UINT8;
}

// Appends one number of the data, checking it against `type`. `index`: its place in the data.
void appendChecked(double x, DataType type, const QString &what, Values &out)
{
    const qsizetype index = qsizetype(out.size());
    switch (type) {
    case DataType::FP32:
    case DataType::FP64:
        // The model takes float32: a value past its range would become inf and every output
        // NaN (sent as null). FP64 data goes through the same float32 input.
        if (!std::isfinite(x) || std::abs(x) > double(std::numeric_limits<float>::max())) {
            fail(QStringLiteral("%1: element %2 of the data (%3) is out of range for the "
                                "model's float32 input (largest magnitude %4)")
                     .arg(what, QString::number(index), QString::number(x, 'g', 6),
                          QString::number(double(std::numeric_limits<float>::max()), 'g', 6)));
        }
        break;
    case DataType::INT64:
    case DataType::INT32:
    case DataType::UINT8: {
        const bool integral = std::isfinite(x) && std::floor(x) == x;
        const double low = type == DataType::UINT8 ? 0.0
                           : type == DataType::INT32 ? double(std::numeric_limits<qint32>::min())
                                                     : -9.3e18;
        const double high = type == DataType::UINT8 ? 255.0
                            : type == DataType::INT32 ? double(std::numeric_limits<qint32>::max())
                                                      : 9.3e18;
        if (!integral || x < low || x > high) {
            fail(QStringLiteral("%1: element %2 of the data (%3) is not a valid %4 value")
                     .arg(what, QString::number(index), QString::number(x),
                          type == DataType::UINT8   ? QStringLiteral("UINT8")
                          : type == DataType::INT32 ? QStringLiteral("INT32")
                                                    : QStringLiteral("INT64")));
        }
        break;
    }
    }
    if (out.ints)
        out.ints->push_back(qint64(x));   // integral and within int64: checked above
    else
        out.floats->push_back(float(x));
}

// Appends the numbers of a flat or nested array, row-major, checking each against `type`.
// Iterative-free recursion is fine: QJsonDocument refuses nesting deeper than 1024.
void flatten(const QJsonValue &value, DataType type, const QString &what, Values &out)
{
    if (value.isArray()) {
        const QJsonArray array = value.toArray();
        for (const QJsonValue &item : array)
            flatten(item, type, what, out);
        return;
    }
    if (!value.isDouble()) {
        fail(QStringLiteral("%1: element %2 of the data is not a number")
                 .arg(what, QString::number(out.size())));
    }
    appendChecked(value.toDouble(), type, what, out);
}

// --- The fast path for the data of a v2 request ---
//
// Profiled under load (bench/README.md, "Where the serving time goes"), decoding the body
// through QJsonDocument and QJsonValue cost the server's thread more than the rest of a
// request together: a 784-value image is 784 QJsonValues built, walked and converted. The
// numbers of "data" are read here straight from the text into the float buffer
// (std::from_chars: correctly rounded, as QJsonDocument is), and QJsonDocument parses the rest
// with "data" cut out. Anything unusual (another layout, a non-number element) goes the
// QJsonDocument way, which also writes every error message: both ways accept exactly the same
// bodies with the same values.

bool isSpace(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// The [begin, end) span of the "data" array of an object in the root's "inputs" array, found
// by scanning strings and nesting only. False when the layout is not that (or is two of it).
bool findDataArray(const QByteArray &body, qsizetype *begin, qsizetype *end)
{
    const char *p = body.constData();
    const qsizetype n = body.size();
    std::vector<char> stack;   // '{' or '[' for each open container
    QByteArrayView rootKey;    // the last key of the root object
    QByteArrayView key;        // the last key read, in the innermost object
    bool expectKey = false;
    int inputsKeys = 0;
    qsizetype found = -1;
    for (qsizetype i = 0; i < n; ++i) {
        const char c = p[i];
        if (c == '"') {
            const qsizetype start = i + 1;
            for (++i; i < n && p[i] != '"'; ++i) {
                if (p[i] == '\\')
                    ++i;
            }
            if (i >= n)
                return false;
            if (expectKey) {
                key = QByteArrayView(p + start, i - start);
                if (stack.size() == 1) {
                    rootKey = key;
                    if (key == "inputs" && ++inputsKeys > 1)
                        return false;
                }
                expectKey = false;
            }
            continue;
        }
        switch (c) {
        case '{':
            stack.push_back('{');
            expectKey = true;
            break;
        case ',':
            expectKey = !stack.empty() && stack.back() == '{';
            break;
        case '}':
        case ']':
            if (stack.empty())
                return false;
            stack.pop_back();
            expectKey = false;
            break;
        case '[':
            if (stack.size() == 3 && stack[0] == '{' && stack[1] == '[' && stack[2] == '{'
                && rootKey == "inputs" && key == "data") {
                if (found >= 0)
                    return false;
                found = i;
                // The array: numbers, brackets, commas and spaces only.
                int level = 0;
                for (; i < n; ++i) {
                    const char d = p[i];
                    if (d == '[') {
                        ++level;
                    } else if (d == ']') {
                        if (--level == 0)
                            break;
                    } else if (!(isSpace(d) || d == ',' || d == '-' || d == '+' || d == '.'
                                 || d == 'e' || d == 'E' || (d >= '0' && d <= '9'))) {
                        return false;
                    }
                }
                if (i >= n)
                    return false;
                *begin = found;
                *end = i + 1;
                key = QByteArrayView();
                break;
            }
            stack.push_back('[');
            expectKey = false;
            break;
        default:
            break;
        }
    }
    return found >= 0 && stack.empty();
}

// Reads the numbers of a nested array of numbers ([begin, end) as found above), checking the
// JSON grammar (so that it accepts exactly what QJsonDocument accepts) and each value against
// `type`. False, with `out` unspecified, when the text is not such an array.
bool readNumbers(const char *p, const char *end, DataType type, const QString &what,
                 Values &out)
{
    int level = 0;
    bool expectValue = true;   // after '[' or ','
    bool afterOpen = false;    // right after '[' (']' may close an empty array)
    while (p < end) {
        const char c = *p;
        if (isSpace(c)) {
            ++p;
            continue;
        }
        if (c == '[') {
            if (!expectValue || ++level > 64)
                return false;
            afterOpen = true;
            ++p;
            continue;
        }
        if (c == ']') {
            if (expectValue && !afterOpen)
                return false;   // "[1,]"
            if (--level < 0)
                return false;
            expectValue = false;
            afterOpen = false;
            ++p;
            if (level == 0)
                break;
            continue;
        }
        if (c == ',') {
            if (expectValue)
                return false;
            expectValue = true;
            afterOpen = false;
            ++p;
            continue;
        }
        if (!expectValue)
            return false;
        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        const char *q = p;
        if (q < end && *q == '-')
            ++q;
        if (q < end && *q == '0') {
            ++q;
        } else if (q < end && *q >= '1' && *q <= '9') {
            while (q < end && *q >= '0' && *q <= '9')
                ++q;
        } else {
            return false;
        }
        if (q < end && *q == '.') {
            ++q;
            if (!(q < end && *q >= '0' && *q <= '9'))
                return false;
            while (q < end && *q >= '0' && *q <= '9')
                ++q;
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
            ++q;
            if (q < end && (*q == '+' || *q == '-'))
                ++q;
            if (!(q < end && *q >= '0' && *q <= '9'))
                return false;
            while (q < end && *q >= '0' && *q <= '9')
                ++q;
        }
        double x = 0.0;
        // Past double's range (result_out_of_range, x untouched): QJsonDocument decides.
        const std::from_chars_result r = std::from_chars(p, q, x);
        if (r.ec != std::errc() || r.ptr != q)
            return false;
        appendChecked(x, type, what, out);
        p = q;
        expectValue = false;
        afterOpen = false;
    }
    // Only spaces may follow the closing bracket within the span.
    while (p < end && isSpace(*p))
        ++p;
    return level == 0 && p == end;
}

// The shape of a nested array (its first elements, depth first); rectangularity is checked by
// the caller through the element count.
std::vector<qint64> nestedShape(const QJsonValue &value)
{
    std::vector<qint64> shape;
    QJsonValue v = value;
    while (v.isArray()) {
        const QJsonArray array = v.toArray();
        shape.push_back(array.size());
        if (array.isEmpty())
            break;
        v = array.first();
    }
    return shape;
}

qint64 product(const std::vector<qint64> &dims, size_t from = 0)
{
    qint64 n = 1;
    for (size_t i = from; i < dims.size(); ++i)
        n *= dims[i];
    return n;
}

QJsonDocument parseBody(const QByteArray &body, const QString &expected)
{
    if (body.trimmed().isEmpty())
        fail(QStringLiteral("empty body: send %1").arg(expected));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error == QJsonParseError::IllegalUTF8String)
        fail(QStringLiteral("the body is not valid UTF-8 (at offset %1): JSON, and the text of "
                            "a BYTES input in it, must be UTF-8")
                 .arg(error.offset));
    if (error.error != QJsonParseError::NoError) {
        fail(QStringLiteral("malformed JSON: %1 at offset %2")
                 .arg(error.errorString())
                 .arg(error.offset));
    }
    return doc;
}

// A request's sample shape against the model's, where a negative dimension of the model's (a
// dynamic sequence length) takes any length.
bool sameSampleShape(const std::vector<qint64> &got, const std::vector<qint64> &expected)
{
    if (got.size() != expected.size())
        return false;
    for (size_t i = 0; i < got.size(); ++i) {
        if (expected[i] >= 0 ? got[i] != expected[i] : got[i] < 1)
            return false;
    }
    return true;
}

void checkOutputs(const QJsonObject &root)
{
    const QJsonValue outputs = root.value(QStringLiteral("outputs"));
    if (outputs.isUndefined() || outputs.isNull())
        return;
    if (!outputs.isArray())
        fail(QStringLiteral("\"outputs\" must be an array of {\"name\"}"));
    for (const QJsonValue &o : outputs.toArray()) {
        const QString name = o.toObject().value(QStringLiteral("name")).toString();
        if (name != QStringLiteral("output"))
            fail(QStringLiteral("unknown output \"%1\"; the model has one output, \"output\"")
                     .arg(name));
    }
}

// A BYTES input: texts, shape [N], each element a JSON string (UTF-8 on the wire).
void readTexts(const QJsonObject &in, const QString &what, const QString &integerInput,
               bool acceptsText, InferInput &input)
{
    if (!acceptsText)
        fail(QStringLiteral("%1: datatype BYTES (text) is for a model that carries its "
                            "tokenizer (a gpt or a text classifier trained by the studio); this "
                            "one does not: send %2")
                 .arg(what, integerInput.isEmpty()
                                ? QStringLiteral("its input as FP32 numbers")
                                : QStringLiteral("token ids as %1").arg(integerInput)));
    if (input.shape.size() != 1)
        fail(QStringLiteral("%1: a BYTES input's shape is [N], one text per element, not %2")
                 .arg(what, shapeText(input.shape, kShape)));
    if (input.batch() == 0)
        fail(QStringLiteral("%1: the batch (shape[0]) is 0").arg(what));
    const QJsonValue data = in.value(QStringLiteral("data"));
    if (!data.isArray())
        fail(QStringLiteral("%1: \"data\" must be an array of strings").arg(what));
    const QJsonArray texts = data.toArray();
    if (texts.size() != input.batch())
        fail(QStringLiteral("%1: data has %2 elements but shape %3 needs %4")
                 .arg(what, QString::number(texts.size()), shapeText(input.shape, kShape),
                      QString::number(input.batch())));
    input.text = true;
    for (qsizetype i = 0; i < texts.size(); ++i) {
        if (!texts.at(i).isString())
            fail(QStringLiteral("%1: element %2 of the data is not a string of text")
                     .arg(what, QString::number(i)));
        const QString text = texts.at(i).toString();
        // A "\ud800" escape parses to a lone surrogate, which is no character of UTF-8.
        if (!text.isValidUtf16())
            fail(QStringLiteral("%1: element %2 of the data is not valid UTF-8 text (a lone "
                                "surrogate escape)")
                     .arg(what, QString::number(i)));
        input.texts.push_back(text.toUtf8());
    }
}

// The fast path met something it does not read: the QJsonDocument way decides.
struct FastPathUnusable
{
};

// `data`: the text of the "data" array when the caller cut it out of `body` (the fast path),
// else null (it is read from the document).
InferInput parseV2(const QByteArray &body, const std::vector<qint64> &sampleShape,
                   const QString &integerInput, bool acceptsText, const char *dataBegin,
                   const char *dataEnd)
{
    const QString expectedBody = QStringLiteral(
        "a JSON object {\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}]}");
    const QJsonDocument doc = parseBody(body, expectedBody);
    if (!doc.isObject())
        fail(QStringLiteral("the body must be %1").arg(expectedBody));
    const QJsonObject root = doc.object();

    InferInput input;
    if (root.contains(QStringLiteral("id"))) {
        const QJsonValue id = root.value(QStringLiteral("id"));
        if (!id.isString())
            fail(QStringLiteral("\"id\" must be a string"));
        input.id = id.toString();
        input.hasId = true;
    }

    const QJsonValue inputsValue = root.value(QStringLiteral("inputs"));
    if (!inputsValue.isArray() || inputsValue.toArray().isEmpty())
        fail(QStringLiteral("\"inputs\" must be a non-empty array; send %1").arg(expectedBody));
    const QJsonArray inputs = inputsValue.toArray();
    if (inputs.size() != 1) {
        fail(QStringLiteral("the model takes one input; the request has %1")
                 .arg(inputs.size()));
    }
    if (!inputs.first().isObject())
        fail(QStringLiteral("each element of \"inputs\" must be an object"));
    const QJsonObject in = inputs.first().toObject();
    input.inputName = in.value(QStringLiteral("name")).toString(QStringLiteral("input"));
    const QString what = QStringLiteral("input \"%1\"").arg(input.inputName);

    const QJsonValue shapeValue = in.value(QStringLiteral("shape"));
    if (!shapeValue.isArray() || shapeValue.toArray().isEmpty())
        fail(QStringLiteral("%1: \"shape\" must be a non-empty array of integers").arg(what));
    for (const QJsonValue &d : shapeValue.toArray()) {
        const double x = d.toDouble(-1.0);
        if (!d.isDouble() || x < 0 || std::floor(x) != x || x > 1e12) {
            fail(QStringLiteral("%1: \"shape\" must hold non-negative integers (batch first)")
                     .arg(what));
        }
        input.shape.push_back(qint64(x));
    }

    const QString typeName = in.value(QStringLiteral("datatype")).toString();
    if (typeName == QLatin1String("BYTES")) {
        readTexts(in, what, integerInput, acceptsText, input);
        checkOutputs(root);
        return input;
    }
    DataType type = DataType::FP32;
    if (!dataTypeFromName(typeName, type)) {
        fail(QStringLiteral("%1: unsupported datatype \"%2\"; use FP32, FP64, INT64, INT32, "
                            "UINT8 or BYTES (text)")
                 .arg(what, typeName));
    }
    // Before the data is read: a float input to a model of token ids is refused as it is.
    if (!integerInput.isEmpty() && !isIntegerType(type)) {
        fail(QStringLiteral("%1: the model takes %2 token ids; send datatype \"%3\" (or "
                            "INT32) with whole numbers, not \"%4\"")
                 .arg(what, integerInput.toLower(), integerInput, typeName));
    }

    if (!sampleShape.empty()) {
        std::vector<qint64> got(input.shape.begin() + 1, input.shape.end());
        if (!sameSampleShape(got, sampleShape)) {
            std::vector<qint64> expected{-1};
            expected.insert(expected.end(), sampleShape.begin(), sampleShape.end());
            fail(QStringLiteral("%1: wrong shape: the model expects %2 (batch first), got %3")
                     .arg(what, shapeText(expected, kShape), shapeText(input.shape, kShape)));
        }
    }
    if (input.batch() == 0)
        fail(QStringLiteral("%1: the batch (shape[0]) is 0").arg(what));

    const QJsonValue data = in.value(QStringLiteral("data"));
    if (!data.isArray())
        fail(QStringLiteral("%1: \"data\" must be an array (flat or nested)").arg(what));
    const qint64 needed = product(input.shape);
    Values values{&input.data, integerInput.isEmpty() ? nullptr : &input.tokens};
    input.integer = values.ints != nullptr;
    if (input.integer)
        input.tokens.reserve(size_t(std::min<qint64>(needed, 1 << 24)));
    else
        input.data.reserve(size_t(std::min<qint64>(needed, 1 << 24)));
    if (dataBegin) {
        if (!readNumbers(dataBegin, dataEnd, type, what, values))
            throw FastPathUnusable{};
    } else {
        flatten(data, type, what, values);
    }
    if (qint64(values.size()) != needed) {
        fail(QStringLiteral("%1: data has %2 values but shape %3 needs %4")
                 .arg(what, QString::number(values.size()),
                      shapeText(input.shape, kShape), QString::number(needed)));
    }

    checkOutputs(root);
    return input;
}

} // namespace

InferInput parseV2Infer(const QByteArray &body, const std::vector<qint64> &sampleShape,
                        const QString &integerInput, bool acceptsText)
{
    qsizetype begin = 0;
    qsizetype end = 0;
    if (findDataArray(body, &begin, &end)) {
        try {
            const QByteArray rest = body.left(begin) + "[]" + body.mid(end);
            return parseV2(rest, sampleShape, integerInput, acceptsText,
                           body.constData() + begin, body.constData() + end);
        } catch (const FastPathUnusable &) {
        } catch (const ProtocolError &) {
            // Refused: the QJsonDocument way says why, in its words (offsets included).
        }
    }
    return parseV2(body, sampleShape, integerInput, acceptsText, nullptr, nullptr);
}

InferInput parseTorchServe(const QByteArray &body, const std::vector<qint64> &sampleShape)
{
    const QString expectedBody =
        QStringLiteral("a JSON array: one sample (flat or nested) or a list of samples");
    const QJsonDocument doc = parseBody(body, expectedBody);
    if (!doc.isArray() || doc.array().isEmpty())
        fail(QStringLiteral("the body must be %1").arg(expectedBody));
    const QJsonValue root(doc.array());

    InferInput input;
    Values values{&input.data, nullptr};
    flatten(root, DataType::FP64, QStringLiteral("input"), values);
    const qint64 count = qint64(input.data.size());
    const std::vector<qint64> nested = nestedShape(root);
    if (!sampleShape.empty()) {
        const qint64 perSample = product(sampleShape);
        if (count == 0 || perSample <= 0 || count % perSample != 0) {
            fail(QStringLiteral("the body holds %1 values, not a whole number of samples of "
                                "shape %2 (%3 values each)")
                     .arg(count)
                     .arg(shapeText(sampleShape, kShape))
                     .arg(perSample));
        }
        input.shape = {count / perSample};
        input.shape.insert(input.shape.end(), sampleShape.begin(), sampleShape.end());
        // One sample when flat or nested exactly as a sample; [[...]] is a list of one.
        input.singleSample = count == perSample && (nested.size() == 1 || nested == sampleShape);
    } else {
        // Unknown input shape: a rank-1 body is one sample, anything deeper a list of them.
        if (nested.size() <= 1) {
            input.shape = {1, count};
            input.singleSample = true;
        } else {
            input.shape = nested;
        }
        if (count == 0 || product(input.shape) != count) {
            fail(QStringLiteral("the body is not a rectangular array of numbers (shape %1, "
                                "%2 values)")
                     .arg(shapeText(nested, kShape))
                     .arg(count));
        }
    }
    return input;
}

void checkTokenIds(const std::vector<qint64> &tokens, qint64 vocabSize)
{
    for (size_t i = 0; i < tokens.size(); ++i) {
        const qint64 id = tokens[i];
        if (id < 0 || (vocabSize > 0 && id >= vocabSize)) {
            fail(vocabSize > 0
                     ? QStringLiteral("token id %1 (element %2 of the data) is outside the "
                                      "model's vocabulary: ids go from 0 to %3")
                           .arg(QString::number(id), QString::number(i),
                                QString::number(vocabSize - 1))
                     : QStringLiteral("token id %1 (element %2 of the data) is negative: ids "
                                      "start at 0")
                           .arg(QString::number(id), QString::number(i)));
        }
    }
}

std::vector<float> softmax(const float *logits, int count)
{
    std::vector<float> p(size_t(std::max(count, 0)), 0.0f);
    if (count <= 0)
        return p;
    const float top = *std::max_element(logits, logits + count);
    double sum = 0.0;
    for (int i = 0; i < count; ++i) {
        p[size_t(i)] = std::exp(logits[i] - top);
        sum += p[size_t(i)];
    }
    for (float &x : p)
        x = float(x / sum);
    return p;
}

QJsonObject v2InferResponse(const QString &model, int version, const InferInput &input,
                            const std::vector<float> &logits)
{
    const qint64 n = std::max<qint64>(input.batch(), 1);
    const qint64 k = qint64(logits.size()) / n;
    QJsonArray data;
    for (float x : logits)
        data.append(double(x));
    QJsonObject output{{QStringLiteral("name"), QStringLiteral("output")},
                       {QStringLiteral("datatype"), QStringLiteral("FP32")},
                       {QStringLiteral("shape"), QJsonArray{double(n), double(k)}},
                       {QStringLiteral("data"), data}};
    QJsonObject reply{{QStringLiteral("model_name"), model},
                      {QStringLiteral("model_version"), QString::number(version)},
                      {QStringLiteral("outputs"), QJsonArray{output}}};
    if (input.hasId)
        reply.insert(QStringLiteral("id"), input.id);
    return reply;
}

QJsonValue torchServeResponse(const std::vector<float> &logits, qint64 batch,
                              const QStringList &classNames, bool singleSample, int topK)
{
    const qint64 n = std::max<qint64>(batch, 1);
    const int k = int(qint64(logits.size()) / n);
    QJsonArray samples;
    for (qint64 row = 0; row < n; ++row) {
        const std::vector<float> p = softmax(logits.data() + row * k, k);
        QJsonArray probabilities;
        for (float x : p)
            probabilities.append(double(x));
        std::vector<int> order(static_cast<size_t>(k), 0);
        std::iota(order.begin(), order.end(), 0);
        const int shown = std::min(topK, k);
        std::partial_sort(order.begin(), order.begin() + shown, order.end(),
                          [&p](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
        QJsonArray top;
        for (int i = 0; i < shown; ++i) {
            const int c = order[size_t(i)];
            const QString label = c < classNames.size() ? classNames.at(c) : QString::number(c);
            top.append(QJsonObject{{QStringLiteral("label"), label},
                                   {QStringLiteral("probability"), double(p[size_t(c)])}});
        }
        samples.append(QJsonObject{{QStringLiteral("probabilities"), probabilities},
                                   {QStringLiteral("top"), top}});
    }
    if (singleSample && samples.size() == 1)
        return samples.first();
    return samples;
}

QJsonObject serverMetadata(const QString &version)
{
    return QJsonObject{{QStringLiteral("name"), QStringLiteral("modelstudio")},
                       {QStringLiteral("version"), version},
                       {QStringLiteral("extensions"), QJsonArray()}};
}

QJsonObject modelMetadata(const ServedModel &model, const QList<int> &versions)
{
    QJsonArray versionList;
    for (int v : versions)
        versionList.append(QString::number(v));
    if (versionList.isEmpty())
        versionList.append(QString::number(model.version));
    QJsonArray inputShape{-1};
    if (model.inputShape.empty()) {
        inputShape.append(-1);
    } else {
        for (qint64 d : model.inputShape)
            inputShape.append(double(d < 0 ? -1 : d));
    }
    const QString datatype = model.inputDtype == QLatin1String("float32")
                                 ? QStringLiteral("FP32")
                                 : model.inputDtype.toUpper();
    const QJsonObject input{{QStringLiteral("name"), QStringLiteral("input")},
                            {QStringLiteral("datatype"), datatype},
                            {QStringLiteral("shape"), inputShape}};
    QJsonArray inputs{input};
    // A version that carries its tokenizer reads text too: either input goes, one per request.
    if (!model.tokenizer.isEmpty())
        inputs.append(QJsonObject{{QStringLiteral("name"), QStringLiteral("text")},
                                  {QStringLiteral("datatype"), QStringLiteral("BYTES")},
                                  {QStringLiteral("shape"), QJsonArray{-1}}});
    const QJsonObject output{
        {QStringLiteral("name"), QStringLiteral("output")},
        {QStringLiteral("datatype"), QStringLiteral("FP32")},
        {QStringLiteral("shape"),
         QJsonArray{-1, model.numOutputs > 0 ? model.numOutputs : -1}}};
    return QJsonObject{{QStringLiteral("name"), model.name},
                       {QStringLiteral("versions"), versionList},
                       {QStringLiteral("platform"), QStringLiteral("pytorch_torchscript")},
                       {QStringLiteral("inputs"), inputs},
                       {QStringLiteral("outputs"), QJsonArray{output}}};
}

QJsonObject errorJson(const QString &message)
{
    return QJsonObject{{QStringLiteral("error"), message}};
}

} // namespace ms::protocol
