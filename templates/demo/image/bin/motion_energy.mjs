#!/usr/bin/env node
/**
 * The demo pipeline's analysis: the per-frame motion energy of a video, as
 * Facemap computes it — the absolute difference between each frame and the one
 * before it, summed over the pixels (here averaged per pixel, on 0–255 grey
 * levels, so videos of any size compare) — written as CSV with a plot (SVG).
 *
 *   motion_energy.mjs VIDEO OUT_DIR
 *
 * Frames are decoded to 8-bit grey by ffmpeg: $FFMPEG, else the ffmpeg beside
 * this script, else the one on PATH.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const [video, outDir] = process.argv.slice(2)
if (!video || !outDir) {
  process.stderr.write('usage: motion_energy.mjs VIDEO OUT_DIR\n')
  process.exit(2)
}
const here = dirname(fileURLToPath(import.meta.url))
const ffmpeg = process.env.FFMPEG || (existsSync(join(here, 'ffmpeg')) ? join(here, 'ffmpeg') : 'ffmpeg')

/** Width, height and frame rate of the first video stream, from ffmpeg's own description of the input. */
function probe(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-i', file], {stdio: ['ignore', 'ignore', 'pipe']})
    let text = ''
    child.stderr.on('data', (chunk) => {
      text += chunk
    })
    child.on('error', (error) =>
      reject(error.code === 'ENOENT' ? new Error(`no ffmpeg at ${ffmpeg}: set FFMPEG or put one beside ${here}/motion_energy.mjs`) : error),
    )
    child.on('close', () => {
      const stream = /Stream #[^\n]*Video:[^\n]*?(\d{2,5})x(\d{2,5})[^\n]*?(\d+(?:\.\d+)?) fps/.exec(text)
      if (!stream) reject(new Error(`${file}: ffmpeg found no video stream in it`))
      else resolve({width: Number(stream[1]), height: Number(stream[2]), fps: Number(stream[3])})
    })
  })
}

const {width, height, fps} = await probe(video)
const frameBytes = width * height
const energies = []
let previous
let pending = Buffer.alloc(0)

await new Promise((resolve, reject) => {
  const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  child.stdout.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= frameBytes) {
      const frame = pending.subarray(0, frameBytes)
      if (previous) {
        let sum = 0
        for (let i = 0; i < frameBytes; i++) sum += Math.abs(frame[i] - previous[i])
        energies.push(sum / frameBytes)
      }
      previous = Buffer.from(frame)
      pending = pending.subarray(frameBytes)
    }
  })
  child.on('error', reject)
  child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code} decoding ${video}`))))
})
if (energies.length === 0) throw new Error(`${video}: fewer than two frames, no motion to measure`)

mkdirSync(outDir, {recursive: true})
const stem = basename(video).replace(/\.[^.]+$/, '')
const rows = energies.map((e, i) => `${i + 1},${((i + 1) / fps).toFixed(4)},${e.toFixed(4)}`)
writeFileSync(join(outDir, `${stem}_motion_energy.csv`), `frame,time_s,motion_energy\n${rows.join('\n')}\n`)

// A plain SVG line plot: time on x, motion energy on y.
const W = 640
const H = 240
const pad = 40
const max = Math.max(...energies, 1e-9)
const x = (i) => pad + (i / Math.max(1, energies.length - 1)) * (W - 2 * pad)
const y = (e) => H - pad - (e / max) * (H - 2 * pad)
const points = energies.map((e, i) => `${x(i).toFixed(1)},${y(e).toFixed(1)}`).join(' ')
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">Motion energy of ${stem} (${energies.length} frame pairs, ${fps} fps)</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="black"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="black"/>
<text x="${W / 2}" y="${H - 10}" text-anchor="middle">time (s), 0 – ${(energies.length / fps).toFixed(2)}</text>
<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">mean |Δ| per pixel (max ${max.toFixed(2)})</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${points}"/>
</svg>
`
writeFileSync(join(outDir, `${stem}_motion_energy.svg`), svg)
const mean = energies.reduce((a, b) => a + b, 0) / energies.length
const still = energies.filter((e) => e < 0.05).length
process.stdout.write(
  `motion energy of ${basename(video)}: ${energies.length} frame pairs, ${width}x${height} at ${fps} fps, mean ${mean.toFixed(3)}, max ${max.toFixed(3)}, ${still} still\n`,
)
