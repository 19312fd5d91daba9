"""The county's action form: 交办 (hand a case at county level back down to its township)."""

from __future__ import annotations

from ..cases.actions import ActionForm, Invalid, Job, _box, _text


class HandDownForm(ActionForm):
    """交办: the county command centre hands a case at county level back down to its township,
    with instructions; the township then dispatches and handles it as its own case."""

    def build(self) -> None:
        fields = self.state.fields
        township = str(fields.get("township_code") or "") or str(
            fields.get("village_code") or ""
        )[:9]
        name = self.snapshot.names.divisions.get(township, township) or self.tr("the township")
        self.set_intro(
            self.tr(
                "The case goes back to %1 as its own case: the township dispatches it to its "
                "units and reports back. Units the county dispatched are taken off the case."
            ).replace("%1", name)
        )
        self.instructions = _box(self, self.tr("What the township is to do, and by when"), 96)
        self.instructions.setObjectName("instructions")
        self.form.addRow(self.tr("Instructions"), self.instructions)

    def job(self) -> Job:
        text = _text(self.instructions)
        if not text:
            raise Invalid(self.tr("Write the instructions for the township."), self.instructions)
        return self.act({"instructions": text})
