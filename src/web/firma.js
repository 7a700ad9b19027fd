// Sello: the signature pad of an in-person signature. The person signs
// with a finger or stylus on the canvas; on sending, the drawing goes as
// a PNG in the form's hidden «imagen» field. Without this script the page
// still offers signing on paper.
(function () {
  for (const form of document.querySelectorAll("form.firma-en-pantalla")) {
    const canvas = form.querySelector("canvas");
    const field = form.querySelector("input[name=imagen]");
    const ctx = canvas.getContext("2d");
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    let drawing = false;
    let inked = false;
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return [
        (event.clientX - box.left) * (canvas.width / box.width),
        (event.clientY - box.top) * (canvas.height / box.height),
      ];
    };
    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      form.querySelector(".aviso-vacio").hidden = true;
      canvas.setPointerCapture(event.pointerId);
      const [x, y] = at(event);
      ctx.beginPath();
      ctx.moveTo(x, y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const [x, y] = at(event);
      ctx.lineTo(x, y);
      ctx.stroke();
      inked = true;
      event.preventDefault();
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    form.querySelector("button.borrar").addEventListener("click", (event) => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      event.preventDefault();
    });
    form.addEventListener("submit", (event) => {
      if (!inked) {
        event.preventDefault();
        form.querySelector(".aviso-vacio").hidden = false;
        return;
      }
      field.value = canvas.toDataURL("image/png");
    });
  }
})();
