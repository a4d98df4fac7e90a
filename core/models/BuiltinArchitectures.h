#pragma once

namespace ms {

class ArchitectureRegistry;

// Adds the built-in families ("mlp", "cnn") through registry.providers().add(), the same door a
// plugin uses. Called once, by the registry itself.
void registerBuiltinArchitectures(ArchitectureRegistry &registry);

} // namespace ms
