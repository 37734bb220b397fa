// Openslot's proof-of-work check on the sign-up form: fetch a signed challenge, solve it
// in a Web Worker (pow-worker.js) so the page stays responsive, and put the solution in
// the form's hidden `captcha` field. A browser without workers solves it on the page with
// the same solver (pow-solver.js, loaded on demand).
(function () {
  "use strict";

  function inWorker(challenge) {
    return new Promise(function (resolve, reject) {
      const worker = new Worker("/static/pow-worker.js");
      worker.onmessage = function (event) {
        worker.terminate();
        if (event.data.solution) resolve(event.data.solution);
        else reject(new Error(event.data.error));
      };
      worker.onerror = function (event) {
        worker.terminate();
        reject(new Error(event.message));
      };
      worker.postMessage(challenge);
    });
  }

  function onPage(challenge) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = "/static/pow-solver.js";
      script.onload = function () {
        const started = performance.now();
        // eslint-disable-next-line no-undef
        openslotSolve(challenge).then(function (solution) {
          solution.time = performance.now() - started;
          resolve(solution);
        }, reject);
      };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function run(box) {
    const form = box.closest("form");
    const field = form.querySelector('input[name="captcha"]');
    const status = box.querySelector("[data-captcha-status]");
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    status.textContent = "Checking you are not a robot…";
    try {
      const response = await fetch(box.dataset.challenge, { credentials: "same-origin" });
      const challenge = await response.json();
      const solution = typeof Worker === "function" ? await inWorker(challenge) : await onPage(challenge);
      field.value = btoa(JSON.stringify({ challenge: challenge, solution: solution }));
      status.textContent = "Done: you can create your account.";
      submit.disabled = false;
    } catch (e) {
      status.textContent = "The anti-robot check failed; reload the page to try again.";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-captcha]").forEach(run);
  });
})();
