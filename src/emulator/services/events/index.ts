import {refusingService} from '../refusing.js'

export default refusingService('events')
