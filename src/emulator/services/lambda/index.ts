import {refusingService} from '../refusing.js'

export default refusingService('lambda')
