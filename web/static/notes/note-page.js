// The note's own page: read the page's configuration and mount the editor (no inline script: CSP).
import { mountNoteEditor } from "./editor.js";

const root = document.getElementById("note-editor");
const config = JSON.parse(document.getElementById("note-config").textContent);
window.noteEditor = mountNoteEditor(root, config.noteUrl, config);
