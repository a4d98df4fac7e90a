#include "compress/CompressionMethod.h"

#include "common/Error.h"
#include "compress/BuiltinMethods_p.h"
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
    throw Error(QStringLiteral("There is no compression method \"%1\"; available: %2.")
                    .arg(name, m_methods.names().join(QStringLiteral(", "))));
}

} // namespace ms
