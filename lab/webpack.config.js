// Builds the application of index.js into build/: bundle.js with its chunks, plus the
// extensions' settings schemas (build/schemas), themes (build/themes) and the generated
// build/style.js, which @jupyterlab/builder's Build.ensureAssets writes.
const path = require('path');
const webpack = require('webpack');
const { Build } = require('@jupyterlab/builder');
const svgToDataURI = require('mini-svg-data-uri');
const pkg = require('./package.json');

const output = path.resolve(__dirname, 'build');

const themes = Build.ensureAssets({
  packageNames: pkg.jupyterlab.extensions.concat(pkg.jupyterlab.mimeExtensions),
  output
});

const app = {
  entry: './index.js',
  output: { path: output, filename: 'bundle.js', hashFunction: 'sha256' },
  mode: 'development',
  devtool: false,
  bail: true,
  performance: { hints: false },
  module: {
    rules: [
      // Some ES modules (@jupyter/web-components) import files without their extension.
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.html$/, type: 'asset/resource' },
      { test: /\.md$/, type: 'asset/source' },
      { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
      { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
      { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
      {
        // Icons referenced from style sheets become data URIs ...
        test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
        issuer: /\.css$/,
        type: 'asset/inline',
        generator: { dataUrl: content => svgToDataURI(content.toString()) }
      },
      {
        // ... and icons imported from JavaScript are strings of SVG source.
        test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
        issuer: /\.js$/,
        type: 'asset/source'
      }
    ]
  },
  plugins: [
    // Some packages call process.cwd() (the path polyfill) in the browser.
    new webpack.DefinePlugin({ process: { cwd: () => '/', env: {} } })
  ]
};

module.exports = [app].concat(themes);
