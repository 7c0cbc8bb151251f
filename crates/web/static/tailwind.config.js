// Tailwind input of the dashboard's CSS; `scripts/build-css` compiles it into app.css.
module.exports = {
  content: [
    __dirname + "/../../../templates/**/*.html",
    __dirname + "/../src/**/*.rs",
    __dirname + "/app.js",
  ],
  theme: { extend: {} },
  plugins: [],
};
