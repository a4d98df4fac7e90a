// The imagefolder plugin: a dataset reader for folders of images.

#include "ImageFolderReader.h"

#include "plugins/PluginInterfaces.h"

#include <QObject>

class ImageFolderPlugin : public QObject, public ms::DatasetReaderPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MODELSTUDIO_PLUGIN_IID FILE "imagefolder.json")
    Q_INTERFACES(ms::DatasetReaderPlugin)

public:
    QList<std::shared_ptr<ms::DatasetReader>> datasetReaders() const override
    {
        return {std::make_shared<msplugin::ImageFolderReader>()};
    }
};

#include "ImageFolderPlugin.moc"
