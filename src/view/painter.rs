//! The render step both widgets run on every change: the inputs of the
//! moment (a [`Scene`]) become a [`Shown`], which the patcher writes into
//! the elements. The Leptos view calls it from an effect, the embed widget
//! from its own callbacks; neither computes or patches on its own.

use web_sys::Element;

use crate::view::labels::Labels;
use crate::view::patch::Patcher;
use crate::view::shown::{Announce, Scene, Shown};

/// What `scene` shows now. `scene.announce_at` is ignored: the live
/// region's time comes from `announce`, which notes a new status.
pub(crate) fn shown_now(announce: &mut Announce, scene: Scene) -> Shown {
    let announce_at = announce.at(scene.status, scene.now);
    Shown::of(&Scene {
        announce_at,
        ..scene
    })
}

/// The patcher and what it must remember between renders.
pub(crate) struct Painter {
    patcher: Patcher,
    announce: Announce,
}

impl Painter {
    /// Takes over `root`, built from (or rendered by a server like)
    /// `first`, computed with `announce`. `None` when the markup is not the
    /// widget's (the patcher says so in the console).
    pub(crate) fn adopt(root: Element, first: Shown, announce: Announce) -> Option<Self> {
        Some(Self {
            patcher: Patcher::adopt(root, first)?,
            announce,
        })
    }

    /// The next paint writes every text: the labels changed (the language
    /// switched). Only a front end whose labels can change calls it, so a
    /// widget with fixed labels links no comparison of them.
    pub(crate) fn relabel(&mut self) {
        self.patcher.write_all_next();
    }

    /// Brings the elements to what `scene` shows: what changed since the
    /// last paint, or everything after adopting or [`Self::relabel`].
    pub(crate) fn paint(&mut self, scene: Scene) {
        let labels: &Labels = scene.labels;
        let next = shown_now(&mut self.announce, scene);
        self.patcher.apply(next, labels);
    }
}
