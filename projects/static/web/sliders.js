// Your own weights: each slider's value shown beside it as it moves. The form works without
// this script; it only saves reading the value after submitting.
document.querySelectorAll(".weights-form input[type=range]").forEach((slider) => {
  const output = document.getElementById(slider.getAttribute("aria-describedby").split(" ")[0]);
  slider.addEventListener("input", () => {
    output.value = slider.value;
  });
});
