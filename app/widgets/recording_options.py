"""RecordingOptionsPanel: frame rate, monitor, key masking and the screenshot interval.

It shows and edits a `RecordingOptions`; the window remembers them and hands them to the
recording controller. Locked while a recording runs (the options of a running recording are
fixed: they are in its session-meta.json).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from app.recorder.monitors import ALL, Monitor
from app.recorder.options import MAX_FPS, MAX_SCREENSHOT_EVERY_S, MIN_FPS, RecordingOptions


class RecordingOptionsPanel(QGroupBox):
    changed = Signal(object)  # RecordingOptions, after any edit by the person

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Recording options", parent)
        self._options = RecordingOptions()
        self._monitors: list[Monitor] = []
        self._filling = False

        self.fps = QSpinBox(self)
        self.fps.setRange(MIN_FPS, MAX_FPS)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip("Video frames per second (1–30). 10 is plenty for most work; "
                            "30 for fast motion, at about three times the CPU.")
        self.monitor = QComboBox(self)
        self.monitor.setToolTip("Which monitor to record, or all of them as one picture.")
        self.monitor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.monitor_note = QLabel(self)
        self.monitor_note.setWordWrap(True)
        self.monitor_note.hide()
        self.mask_keys = QCheckBox("Mask typed characters", self)
        self.mask_keys.setToolTip("Letters, digits and other typed characters are logged as *; "
                                  "Enter, Shift, arrows and the like keep their names.")
        self.screenshot_every = QDoubleSpinBox(self)
        self.screenshot_every.setRange(0, MAX_SCREENSHOT_EVERY_S)
        self.screenshot_every.setDecimals(1)
        self.screenshot_every.setSingleStep(1.0)
        self.screenshot_every.setSuffix(" s")
        self.screenshot_every.setSpecialValueText("Off")
        self.screenshot_every.setToolTip("A screenshot every this many seconds, besides the one "
                                         "taken at every click. Off = only at clicks.")

        form = QFormLayout(self)
        for label, field in (("&Frame rate:", self.fps), ("&Monitor:", self.monitor)):
            caption = QLabel(label, self)
            caption.setBuddy(field)
            form.addRow(caption, field)
        form.addRow("", self.monitor_note)
        form.addRow("", self.mask_keys)
        shots = QLabel("&Screenshot every:", self)
        shots.setBuddy(self.screenshot_every)
        form.addRow(shots, self.screenshot_every)

        self.fps.valueChanged.connect(self._edited)
        self.monitor.currentIndexChanged.connect(self._edited)
        self.mask_keys.toggled.connect(self._edited)
        self.screenshot_every.valueChanged.connect(self._edited)
        self.set_monitors([])
        self.set_options(self._options)

    # --- what the window tells it ----------------------------------------------------------
    def set_options(self, options: RecordingOptions) -> None:
        """Show `options` (no `changed` signal: nothing was edited)."""
        self._options = options
        self._filling = True
        try:
            self.fps.setValue(options.fps)
            self.mask_keys.setChecked(options.mask_keys)
            self.screenshot_every.setValue(options.screenshot_every_s)
            self._select_monitor(options.monitor)
        finally:
            self._filling = False

    def set_monitors(self, monitors: list[Monitor], problem: str | None = None) -> None:
        """The monitors to offer. Before they are known (or when they cannot be listed) the
        remembered choice and "all" are offered, so a choice is never lost."""
        self._monitors = monitors
        self._filling = True
        try:
            self.monitor.clear()
            for monitor in monitors:
                self.monitor.addItem(monitor.label, monitor.key)
                self.monitor.setItemData(self.monitor.count() - 1, monitor.where,
                                         Qt.ItemDataRole.ToolTipRole)
            if not monitors:
                key = self._options.monitor
                if key != ALL:
                    self.monitor.addItem(f"{key}: Monitor {key}", key)
                self.monitor.addItem("All monitors", ALL)
            self._select_monitor(self._options.monitor)
        finally:
            self._filling = False
        note = problem
        if note is None and monitors and self.monitor.currentData() != self._options.monitor:
            note = (f"Monitor {self._options.monitor} is not connected now; "
                    f"{self.monitor.currentText()} will be recorded.")
        self.monitor_note.setText(note or "")
        self.monitor_note.setVisible(bool(note))
        if monitors and self.options() != self._options:
            self._options = self.options()  # the shown fallback is what will be recorded

    def set_locked(self, locked: bool) -> None:
        for field in (self.fps, self.monitor, self.mask_keys, self.screenshot_every):
            field.setEnabled(not locked)

    # --- reading ---------------------------------------------------------------------------
    def options(self) -> RecordingOptions:
        key = self.monitor.currentData()
        return RecordingOptions(
            fps=self.fps.value(),
            monitor=str(key) if key is not None else self._options.monitor,
            mask_keys=self.mask_keys.isChecked(),
            screenshot_every_s=round(self.screenshot_every.value(), 1),
        )

    def monitors(self) -> list[Monitor]:
        return list(self._monitors)

    def _select_monitor(self, key: str) -> None:
        index = self.monitor.findData(key)
        if index < 0:
            # Not connected now: the first monitor (mss lists the primary first on most setups).
            index = 0
        self.monitor.setCurrentIndex(index)

    def _edited(self, *_args: object) -> None:
        if self._filling:
            return
        self._options = self.options()
        self.monitor_note.hide()
        self.changed.emit(self._options)
