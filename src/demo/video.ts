/**
 * The demo's video, made on the spot by the ffmpeg that ships inside the
 * @ffmpeg-installer/ffmpeg package (nothing to download, no system ffmpeg): a
 * bright square on a dark field that moves for one second, rests for one, and
 * so on — a "mouse" whose motion energy is a square wave, easy to check by eye.
 */
import {spawn} from 'node:child_process'
import {createRequire} from 'node:module'
import {NcapError} from '../errors.js'

/** The packaged ffmpeg's path, or a clear error naming the package. */
export function packagedFfmpeg(): string {
  try {
    const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as {path: string}
    return installer.path
  } catch (error) {
    throw new NcapError(
      `the demo needs the ffmpeg of the npm package @ffmpeg-installer/ffmpeg, which is missing: ${(error as Error).message}`,
      {
        code: 'FfmpegMissing',
        suggestions: ['npm ci'],
      },
    )
  }
}

export interface DemoVideoOptions {
  seconds?: number
  fps?: number
  width?: number
  height?: number
}

/** Writes the demo video (MPEG-4 in .mp4) to `file`. */
export async function makeDemoVideo(file: string, options: DemoVideoOptions = {}): Promise<void> {
  const seconds = options.seconds ?? 6
  const fps = options.fps ?? 15
  const width = options.width ?? 320
  const height = options.height ?? 240
  const size = Math.round(height / 6)
  const travel = width - size - 20
  // Moves left to right during odd seconds' first half of each 2 s period, rests at the right during the second.
  const x = `if(lt(mod(t,2),1),10+${travel}*mod(t,1),10+${travel})`
  const filter = `color=c=0x202020:s=${width}x${height}:r=${fps}:d=${seconds}[bg];color=c=white:s=${size}x${size}:r=${fps}:d=${seconds}[fg];[bg][fg]overlay=x='${x}':y=${Math.round((height - size) / 2)}:shortest=1`
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    filter,
    '-c:v',
    'mpeg4',
    '-q:v',
    '4',
    '-pix_fmt',
    'yuv420p',
    file,
  ]
  await new Promise<void>((resolve, reject) => {
    const child = spawn(packagedFfmpeg(), args, {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new NcapError(`ffmpeg could not make the demo video ${file} (exit ${code}): ${stderr.trim()}`)),
    )
  })
}
