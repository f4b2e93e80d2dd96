"""The small dialog that edits a session's title and note (F2 or the pencil on a card).

It only collects and checks the text (the same rules and sentences as `sessionrec
rename`); the window writes it, off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.models import SessionListItem
from app.session_texts import MAX_TITLE_CHARS, TextProblem, clean_note, clean_title
from app.widgets.session_card import error_colour, format_when


class SessionTextsDialog(QDialog):
    textsChosen = Signal(str, object, object)  # sessionId, title or None, note or None

    def __init__(self, item: SessionListItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session_id = item.session_id
        self.setWindowTitle("Title and note")
        self.title_edit = QLineEdit(item.title or "", self)
        self.title_edit.setMaxLength(MAX_TITLE_CHARS)
        self.title_edit.setPlaceholderText("e.g. Checkout fails with a saved card")
        self.title_edit.setAccessibleName("Title")
        self.note_edit = QPlainTextEdit(item.note or "", self)
        self.note_edit.setPlaceholderText("Anything worth knowing: ticket, customer, steps…")
        self.note_edit.setAccessibleName("Note")
        self.note_edit.setTabChangesFocus(True)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color: {error_colour(self.palette()).name()};")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)

        about = QLabel(f"Session {item.session_id}, recorded {format_when(item.created_at)}", self)
        about.setWordWrap(True)
        form = QFormLayout()
        title_label = QLabel("&Title:", self)
        title_label.setBuddy(self.title_edit)
        note_label = QLabel("&Note:", self)
        note_label.setBuddy(self.note_edit)
        form.addRow(title_label, self.title_edit)
        form.addRow(note_label, self.note_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)
        self.title_edit.textChanged.connect(self._check)
        self.note_edit.textChanged.connect(self._check)
        self.resize(520, 300)
        self._check()

    def _texts(self) -> tuple[str | None, str | None]:
        return clean_title(self.title_edit.text()), clean_note(self.note_edit.toPlainText())

    def _check(self) -> bool:
        try:
            self._texts()
        except TextProblem as exc:
            self.problem_label.setText(str(exc))
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
            return False
        self.problem_label.setText("")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        return True

    def _save(self) -> None:
        if not self._check():
            return
        title, note = self._texts()
        self.textsChosen.emit(self.session_id, title, note)
        self.accept()
