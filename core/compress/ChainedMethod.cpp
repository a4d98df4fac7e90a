#include "compress/ChainedMethod_p.h"

#include "common/Error.h"

namespace ms {

namespace {

// "prune-structured+quantize-static": the methods one after the other, each on the model the
// one before made. A sweep's compression search tries such pipelines as one method, and a
// person can run one in a single command; the variant has one version and one lineage edge,
// from the source. Parameters are the union of the steps' (a name two steps share would be
// ambiguous, so such a chain is refused), each step reading its own.
class ChainedMethod final : public CompressionMethod
{
public:
    ChainedMethod(QString name, std::vector<std::shared_ptr<CompressionMethod>> steps)
        : m_name(std::move(name)), m_steps(std::move(steps))
    {
        QStringList seen;
        for (const auto &step : m_steps) {
            for (const CompressParameter &p : step->parameters()) {
                if (seen.contains(p.name))
                    throw Error(QStringLiteral("%1: two steps take --%2; chain methods whose "
                                               "parameters differ, or run them one after the "
                                               "other.").arg(m_name, p.name));
                seen << p.name;
            }
        }
    }

    QString name() const override { return m_name; }
    QString description() const override
    {
        QStringList names;
        for (const auto &step : m_steps)
            names << step->name();
        return QStringLiteral("%1, one after the other").arg(names.join(QStringLiteral(" then ")));
    }
    QList<CompressParameter> parameters() const override
    {
        QList<CompressParameter> all;
        for (const auto &step : m_steps)
            all += step->parameters();
        return all;
    }
    // Each step's checks see its own parameters. A later step is checked against the source:
    // its real input does not exist before the earlier steps ran, and every built-in check
    // that reads the model asks about its kind of layers, which pruning keeps.
    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        for (const auto &step : m_steps)
            step->check(source, record, own(*step, params));
    }
    void checkInput(const CompressInput &input) const override
    {
        for (const auto &step : m_steps) {
            CompressInput mine = input;
            mine.params = own(*step, input.params);
            step->checkInput(mine);
        }
    }
    // Only the first step's data checks can run before any work (see check()).
    void checkData(CompressInput &input, JobContext &context) const override
    {
        CompressInput mine = input;
        mine.params = own(*m_steps.front(), input.params);
        m_steps.front()->checkData(mine, context);
        input.prepared = mine.prepared;
    }
    bool needsLabels() const override
    {
        for (const auto &step : m_steps)
            if (step->needsLabels())
                return true;
        return false;
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        CompressOutput out;
        QJsonObject details;
        CompressInput current = input;
        for (size_t i = 0; i < m_steps.size(); ++i) {
            const auto &step = m_steps[i];
            current.params = own(*step, input.params);
            if (i > 0) {
                current.model = out.model;
                current.prepared.reset();
                step->checkData(current, context);
            }
            CompressOutput next = step->apply(current, context);
            if (next.model.isNull())
                return next;   // cancelled
            details.insert(step->name(), next.details);
            next.extraParents = out.extraParents + next.extraParents;
            if (next.quantizedEngine.isEmpty())
                next.quantizedEngine = out.quantizedEngine;
            out = std::move(next);
        }
        out.details = details;
        return out;
    }

private:
    static QJsonObject own(const CompressionMethod &step, const QJsonObject &params)
    {
        QJsonObject mine;
        for (const CompressParameter &p : step.parameters())
            if (params.contains(p.name))
                mine.insert(p.name, params.value(p.name));
        return mine;
    }

    QString m_name;
    std::vector<std::shared_ptr<CompressionMethod>> m_steps;
};

} // namespace

std::shared_ptr<CompressionMethod>
makeChainedMethod(const QString &name, std::vector<std::shared_ptr<CompressionMethod>> steps)
{
    return std::make_shared<ChainedMethod>(name, std::move(steps));
}

} // namespace ms
