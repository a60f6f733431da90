//! The editor's cover panel: the current cover, a file picker whose choice is previewed at
//! once (an object URL, no upload needed to see it), the upload's progress as the bytes go
//! out, then the progress of the task making the variants (from the live stream), and a
//! button that removes the cover. The story is reloaded when the variants are ready, so
//! what the panel shows is what readers will see.

use dioxus::prelude::*;

use app::model::{ApiError, Story, TaskStatus};

#[cfg(target_arch = "wasm32")]
use crate::hooks::upload;
use crate::{
    components::{CoverImage, FormError, use_live},
    hooks::upload::Sent,
};

/// The panel.
#[component]
pub fn CoverEditor(story: Story, on_changed: EventHandler<()>) -> Element {
    let live = use_live();
    let mut task = use_signal(|| None::<String>);
    #[cfg_attr(not(target_arch = "wasm32"), allow(unused_mut))]
    let mut sent = use_signal(|| None::<Sent>);
    let mut preview = use_signal(|| None::<String>);
    let mut error = use_signal(|| None::<ApiError>);
    let input_id = format!("cover-file-{}", story.id);
    let story_id = story.id.clone();

    let made = task
        .read()
        .as_ref()
        .and_then(|id| live.tasks.read().get(id).cloned());
    // The variants are ready (or failed): show the story as it now is.
    use_effect(move || {
        let Some(id) = task() else { return };
        let Some(t) = live.tasks.read().get(&id).cloned() else {
            return;
        };
        if t.status.is_final() {
            task.set(None);
            if t.status != TaskStatus::Completed {
                error.set(Some(ApiError::new(
                    app::model::ErrorCode::Internal,
                    t.error
                        .unwrap_or_else(|| "making the cover's variants failed".into()),
                )));
            }
            if let Some(url) = preview.take() {
                #[cfg(target_arch = "wasm32")]
                upload::release(&url);
                let _ = url;
            }
            on_changed.call(());
        }
    });

    let choose = {
        let (input_id, story_id) = (input_id.clone(), story_id.clone());
        move |_: FormEvent| {
            #[cfg(target_arch = "wasm32")]
            {
                let Some(file) = upload::chosen_file(&input_id) else {
                    return;
                };
                if let Some(old) = preview.take() {
                    upload::release(&old);
                }
                preview.set(upload::preview_url(&file));
                error.set(None);
                sent.set(Some((0.0, file.size())));
                let url = format!("/api/stories/{story_id}/cover");
                spawn(async move {
                    let answer =
                        upload::send("PUT", &url, Some(&file), move |s| sent.set(Some(s))).await;
                    sent.set(None);
                    match answer.and_then(upload::checked) {
                        Ok(body) => {
                            let uploaded =
                                serde_json::from_str::<app::model::CoverUploaded>(&body).ok();
                            task.set(uploaded.and_then(|u| u.task).map(|t| t.id));
                            on_changed.call(());
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = (&input_id, &story_id);
        }
    };
    let remove = {
        let story_id = story_id.clone();
        move |_: MouseEvent| {
            #[cfg(target_arch = "wasm32")]
            {
                let url = format!("/api/stories/{story_id}/cover");
                spawn(async move {
                    match upload::send("DELETE", &url, None, |_| {})
                        .await
                        .and_then(upload::checked)
                    {
                        Ok(_) => on_changed.call(()),
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = &story_id;
        }
    };

    rsx! {
        section { class: "card", "data-testid": "cover-editor",
            h2 { "Cover" }
            match story.cover.clone() {
                Some(cover) => rsx! {
                    CoverImage { cover, sizes: "480px", class: "cover-editor", alt: "The current cover" }
                },
                None => rsx! { p { class: "muted", "No cover yet: JPEG, PNG or WebP, up to 10 MB and 40 megapixels." } },
            }
            if let Some(url) = preview() {
                img { class: "cover-preview", "data-testid": "cover-preview", src: "{url}", alt: "The image you chose" }
            }
            if let Some((done, total)) = sent() {
                progress { class: "upload-progress", "data-testid": "upload-progress", value: "{done}", max: "{total.max(1.0)}" }
                p { class: "muted", "Uploading: {(done / total.max(1.0) * 100.0) as u32} %" }
            }
            if let Some(t) = made {
                progress { class: "upload-progress", "data-testid": "variants-progress", value: "{t.progress}", max: "100" }
                p { class: "muted", "data-testid": "variants-message", "Preparing the cover: {t.message}" }
            } else if story.cover_pending {
                p { class: "muted", "A new cover is being prepared; the current one stays until it is ready." }
            }
            div { class: "row",
                label { class: "btn",
                    "Choose an image…"
                    input {
                        r#type: "file",
                        id: "{input_id}",
                        "data-testid": "cover-input",
                        accept: "image/jpeg,image/png,image/webp",
                        style: "display: none",
                        onchange: choose,
                    }
                }
                if story.cover.is_some() || story.cover_pending {
                    button { class: "btn", "data-testid": "cover-remove", onclick: remove, "Remove the cover" }
                }
            }
            FormError { error, fields: &[] }
        }
    }
}
