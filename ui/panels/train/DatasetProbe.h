#pragma once

#include <QHash>
#include <QObject>
#include <QString>

#include <vector>

class QThread;

namespace ms::ui {

// Finds a dataset's sample shape and class count for the model summary, without blocking the
// window. A built-in that describes its samples (ms::BuiltinDataset::sampleShape, numClasses)
// is answered at once (reading 60,000 images to learn "1x28x28, 10 classes" would cost
// seconds); paths, and built-ins that do not say, are read once on a worker thread and cached.
class DatasetProbe final : public QObject
{
    Q_OBJECT

public:
    struct Info
    {
        std::vector<qint64> sampleShape;
        int numClasses = 0;
        bool assumed = false;   // as the built-in describes itself, not read from the files
        QString error;          // why the dataset cannot be read; empty when fine
    };

    explicit DatasetProbe(QObject *parent = nullptr);
    // Waits for a read in progress: no worker may outlive the probe.
    ~DatasetProbe() override;

    // Emits ready(source, info), synchronously when the answer is known, else later. Only the
    // latest request of a burst is read.
    void probe(const QString &source);

Q_SIGNALS:
    void ready(const QString &source, const ms::ui::DatasetProbe::Info &info);

private:
    void startRead(const QString &source);

    QHash<QString, Info> m_cache;
    QThread *m_thread = nullptr;
    QString m_pending;            // asked for while a read was running
};

} // namespace ms::ui
