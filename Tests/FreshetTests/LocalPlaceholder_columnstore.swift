// Placeholder so the target has a source until its owner's branch is merged.
