#include "compress/CompressionMethod.h"

#include "common/Error.h"
#include "compress/BuiltinMethods_p.h"
#include "compress/ChainedMethod_p.h"
#include "compress/QuantizeMethods_p.h"

namespace ms {

CompressionRegistry &CompressionRegistry::instance()
{
    static CompressionRegistry registry;
    return registry;
}

CompressionRegistry::CompressionRegistry()
{
    m_methods.add(makePruneUnstructured());
    m_methods.add(makePruneStructured());
    m_methods.add(makeDistill());
    m_methods.add(makeQuantizeDynamic());
    m_methods.add(makeQuantizeStatic());
    m_methods.add(makeHalfPrecision(false));
    m_methods.add(makeHalfPrecision(true));
}

std::shared_ptr<CompressionMethod> CompressionRegistry::method(const QString &name) const
{
    if (std::shared_ptr<CompressionMethod> found = m_methods.find(name))
        return found;
    // "a+b": a then b on a's result (compress/ChainedMethod_p.h).
    const QStringList parts = name.split(QLatin1Char('+'));
    if (parts.size() > 1) {
        std::vector<std::shared_ptr<CompressionMethod>> steps;
        for (const QString &part : parts) {
            if (part.contains(QLatin1Char('+')) || part.isEmpty())
                break;
            steps.push_back(method(part));
        }
        if (steps.size() == size_t(parts.size()))
            return makeChainedMethod(name, std::move(steps));
    }
    throw Error(QStringLiteral("There is no compression method \"%1\"; available: %2, or "
                               "several joined with + (one after the other).")
                    .arg(name, m_methods.names().join(QStringLiteral(", "))));
}

} // namespace ms
